package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/alert"
	"github.com/trailhq/trail/retention"
	"github.com/trailhq/trail/schema"
)

// featureLeaseTTL is how long the alert and retention leases last without
// renewal: how soon another node takes over when this one dies.
const featureLeaseTTL = 15 * time.Second

// newFeatures builds the retention runner, the alert evaluator and the
// schema validator over db.
func (m *Main) newFeatures(db trail.Store) {
	m.Schemas = schema.NewValidator(db, nil)
	m.Retention = retention.New(retention.Config{Store: db, Writer: m.Writer, Logger: m.Logger,
		Every: m.Config.RetentionInterval, LogRetention: m.Config.LogRetention})
	m.Alerts = alert.New(alert.Config{Store: db, Writer: m.Writer, Logger: m.Logger,
		AllowNetworks: m.Config.allowNetworks(), Follower: m.Follower})
}

// startFeatures runs the alert evaluator and the retention job, each under
// its lease so that one node at a time runs it, and the OTLP port when
// --otlp-addr is set.
func (m *Main) startFeatures(bgctx context.Context) error {
	holder := leaseHolder()
	if m.Alerts != nil {
		lease := trail.LeaseConfig{Name: alert.LeaseName, Holder: holder, TTL: featureLeaseTTL, Logger: m.Logger}
		m.goBackground(func() { trail.RunWithLease(bgctx, m.Store, lease, m.Alerts.Run) })
	}
	if m.Retention != nil {
		lease := trail.LeaseConfig{Name: retention.LeaseName, Holder: holder, TTL: featureLeaseTTL, Logger: m.Logger}
		m.goBackground(func() { trail.RunWithLease(bgctx, m.Store, lease, m.Retention.Run) })
	}
	if m.Config.OTLPAddr == "" {
		return nil
	}
	ln, err := m.listen("otlp-addr", m.Config.OTLPAddr)
	if err != nil {
		return err
	}
	m.otlp, m.otlpLn = m.newHTTPServer(m.API.OTLPHandler()), ln
	go m.serve(m.otlp, ln)
	m.Logger.Info("OTLP/HTTP logs receiver listening", "addr", ln.Addr().String(), "path", "/v1/logs")
	return nil
}

// OTLPAddr returns the address of the OTLP port, "" when it is off.
func (m *Main) OTLPAddr() string {
	if m.otlpLn == nil {
		return ""
	}
	return m.otlpLn.Addr().String()
}

// leaseHolder is a unique lease holder id for this process.
func leaseHolder() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}
