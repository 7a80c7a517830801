package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/trailhq/trail"
)

// values returns every setting of c by its YAML name, as its flag prints
// it. The config file's forwarders are left out: their changes are
// recorded as forwarder events.
func (c *Config) values() map[string]string {
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	c.bind(fs)
	out := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) {
		out[strings.ReplaceAll(f.Name, "-", "_")] = f.Value.String()
	})
	return out
}

// recordSettings compares the settings this node starts with to those of
// its last start (or the deployment's last start, for a new node) and,
// when they differ, records settings.updated with the names of the
// settings that changed, never their values. Then it saves the new
// fingerprint. The event is durable before the fingerprint is saved, so a
// failure in between records the change again at the next start rather
// than never.
func (m *Main) recordSettings(ctx context.Context, now time.Time) error {
	node := hostname()
	prev, err := m.Store.LastSettings(ctx, node)
	if err != nil {
		return err
	}
	fp, changed := trail.FingerprintSettings(prev, node, m.Config.values(), now)
	if len(changed) > 0 {
		o := nodeOrigin(m.Config.File)
		e := o.event(trail.SystemTenant, trail.ActionSettingsUpdated, now)
		e.Metadata, _ = json.Marshal(map[string]any{"changed": changed, "node": node, "previous_node": prev.Node})
		if err := m.Writer.Append(ctx, &trail.Batch{Events: []*trail.Event{e}}); err != nil {
			return fmt.Errorf("record %s: %w", trail.ActionSettingsUpdated, err)
		}
	}
	if err := m.Store.SaveSettings(ctx, fp); err != nil {
		return err
	}
	return nil
}
