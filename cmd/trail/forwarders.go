package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/trailhq/trail"
	"github.com/trailhq/trail/forward"
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
func newForwarders(db trail.Store, reg *prometheus.Registry, log *slog.Logger, allow []netip.Prefix) (*forward.Manager, error) {
	fs, ok := db.(forward.Store)
	if !ok {
		return nil, fmt.Errorf("store %T cannot hold forwarders", db)
	}
	return forward.New(forward.Config{Store: fs, Logger: log, Registry: reg, AllowNetworks: allow}), nil
}

// allowNetworks is --forward-allow-networks, parsed (Validate checked it).
func (c *Config) allowNetworks() []netip.Prefix {
	nets, _ := forward.ParseNetworks(c.ForwardAllowNetworks)
	return nets
}

// startForwarders applies the config file's forwarders to the store
// (creating, updating and deleting config-managed ones, each change an
// audit event), then runs every forwarder until bgctx ends.
func (m *Main) startForwarders(ctx, bgctx context.Context) error {
	fs := m.Store.(forward.Store) // checked by newForwarders
	if err := forward.Sync(ctx, fs, m.Config.Forwarders, time.Now()); err != nil {
		return fmt.Errorf("config file forwarders: %w", err)
	}
	m.goBackground(func() { m.Forwarders.Run(bgctx) })
	return nil
}
