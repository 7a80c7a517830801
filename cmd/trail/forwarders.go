package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/trailhq/trail"
	"github.com/trailhq/trail/forward"
	"gopkg.in/yaml.v3"
)

// validateForwarders checks the forwarders: section of the config file,
// one error per problem, each naming its forwarder and field, such as
// "forwarders[0].method: must be POST, PUT or PATCH".
func validateForwarders(fs []trail.Forwarder) []error {
	var te *trail.Error
	if err := forward.ValidateConfig(fs); !errors.As(err, &te) {
		return nil
	}
	errs := make([]error, len(te.Details))
	for i, d := range te.Details {
		errs[i] = fmt.Errorf("config file: %s: %s", d.Field, d.Problem)
	}
	return errs
}

// newForwarders makes the manager that drives every forwarder of db. It
// exists before the Writer, whose commit hook wakes it; startForwarders
// starts it.
func newForwarders(db trail.Store, reg *prometheus.Registry, log *slog.Logger, allow []netip.Prefix, fl *trail.Follower) (*forward.Manager, error) {
	return forward.New(forward.Config{Store: db, Logger: log, Registry: reg, AllowNetworks: allow,
		Follower: fl}), nil
}

// allowNetworks is --forward-allow-networks, parsed (Validate checked it).
func (c *Config) allowNetworks() []netip.Prefix {
	nets, _ := forward.ParseNetworks(string(c.ForwardAllowNetworks))
	return nets
}

// networkList is a list of CIDRs: comma-separated in a flag or the
// environment; a string or a list in the YAML file.
type networkList string

// String implements flag.Value.
func (n *networkList) String() string {
	if n == nil {
		return ""
	}
	return string(*n)
}

// Set implements flag.Value.
func (n *networkList) Set(s string) error {
	*n = networkList(s)
	return nil
}

// UnmarshalYAML takes "10.0.0.0/8,192.168.7.9" or [10.0.0.0/8, 192.168.7.9].
func (n *networkList) UnmarshalYAML(v *yaml.Node) error {
	switch v.Kind {
	case yaml.ScalarNode:
		*n = networkList(v.Value)
	case yaml.SequenceNode:
		items := make([]string, len(v.Content))
		for i, c := range v.Content {
			if c.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: forward_allow_networks: want CIDRs like 10.0.0.0/8", c.Line)
			}
			items[i] = c.Value
		}
		*n = networkList(strings.Join(items, ","))
	default:
		return fmt.Errorf("line %d: forward_allow_networks: want a list of CIDRs like 10.0.0.0/8", v.Line)
	}
	return nil
}

// startForwarders applies the config file's forwarders to the store
// (creating, updating and deleting config-managed ones, each change an
// audit event naming the config file and this node), then runs every
// forwarder until bgctx ends.
func (m *Main) startForwarders(ctx, bgctx context.Context) error {
	o := nodeOrigin(m.Config.File)
	if err := forward.Sync(ctx, m.Store, m.Config.Forwarders, o.actor, o.ctx, time.Now()); err != nil {
		return fmt.Errorf("config file forwarders: %w", err)
	}
	m.goBackground(func() { m.Forwarders.Run(bgctx) })
	return nil
}
