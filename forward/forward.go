// Package forward streams Trail's events to other systems: webhooks signed
// per the Standard Webhooks spec, Splunk's HTTP Event Collector, syslog
// (RFC 5424 over TCP or TLS) and S3-compatible object stores.
//
// Each forwarder follows the store-wide event stream from a cursor kept in
// the store, and moves it only once its receiver acknowledged a delivery,
// so delivery is at least once and in stream order, across restarts and
// receiver outages. Failed deliveries are retried with exponential backoff
// and jitter; after the configured attempts, events go to a dead-letter
// list that an admin can replay. Forwarders read the stream on their own,
// so they never slow ingest, and each runs under a lease
// (trail.RunWithLease), so one node at a time drives it.
package forward

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/trailhq/trail"
)

// Store is what forwarders need of a Trail store.
type Store interface {
	trail.EventStore
	trail.ForwarderStore
	trail.Leaser
}

// Config configures a Manager. Store is required.
type Config struct {
	Store Store
	// Holder is this node's unique id, for the forwarders' leases; empty
	// makes one from the host name, the process id and random bytes.
	Holder string
	// Logger receives delivery failures and lease changes; nil discards.
	Logger *slog.Logger
	// Registry receives the forwarder metrics; nil keeps them private.
	Registry prometheus.Registerer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Poll is how often an idle forwarder looks for new events, unless
	// a commit on this node wakes it sooner; default 1s.
	Poll time.Duration
	// Follower wakes the forwarders when this node's Writer commits; nil
	// makes one that only Notify wakes.
	Follower *trail.Follower
	// Refresh is how often forwarder settings are reloaded from the store,
	// unless Refresh is called sooner; default 5s.
	Refresh time.Duration
	// LeaseTTL is how long a forwarder's lease lasts without renewal: how
	// long a dead node's forwarders wait before another node takes them
	// over; default 15s.
	LeaseTTL time.Duration
	// Checkpoint is how often progress is saved while events are delivered
	// one per request; a crash delivers at most that much again. Default 1s.
	Checkpoint time.Duration
	// AllowNetworks are the networks that tenants' forwarders may reach
	// although they are not public (loopback, private, ...; see Guard).
	// Operator forwarders may reach any address.
	AllowNetworks []netip.Prefix
}

// Manager runs the delivery loop of every forwarder in the store, each
// under its own lease, and follows changes to them.
type Manager struct {
	cfg     Config
	guard   *Guard
	log     *slog.Logger
	m       *metrics
	refresh chan struct{}

	mu      sync.Mutex
	running map[string]*running // by forwarder id
}

// running is one forwarder's lease loop.
type running struct {
	f      *trail.Forwarder
	cancel context.CancelFunc
	done   chan struct{}
	wake   *trail.Wake
}

// New returns a Manager for cfg; Run starts it.
func New(cfg Config) *Manager {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Holder == "" {
		cfg.Holder = newHolder()
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	cfg.Poll = orDefault(cfg.Poll, time.Second)
	cfg.Refresh = orDefault(cfg.Refresh, 5*time.Second)
	cfg.LeaseTTL = orDefault(cfg.LeaseTTL, 15*time.Second)
	cfg.Checkpoint = orDefault(cfg.Checkpoint, time.Second)
	if cfg.Follower == nil {
		cfg.Follower = trail.NewFollower()
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Manager{
		cfg:     cfg,
		guard:   NewGuard(cfg.AllowNetworks),
		log:     log,
		m:       newMetrics(cfg.Registry),
		refresh: make(chan struct{}, 1),
		running: map[string]*running{},
	}
}

// newHolder returns a lease holder id unique to this process.
func newHolder() string {
	host, _ := os.Hostname()
	b := make([]byte, 6)
	rand.Read(b)
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Run drives the forwarders until ctx ends, then stops them, saving their
// progress, and returns.
func (m *Manager) Run(ctx context.Context) {
	t := time.NewTicker(m.cfg.Refresh)
	defer t.Stop()
	defer m.stopAll()
	for {
		if err := m.reconcile(ctx); err != nil && ctx.Err() == nil {
			m.log.Warn("load forwarders", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-m.refresh:
		}
	}
}

// Notify tells the forwarders that new events were stored, so that idle
// ones look at once instead of at their next poll: Config.Follower's
// Notify. It never blocks.
func (m *Manager) Notify() { m.cfg.Follower.Notify() }

// Refresh makes Run reload the forwarders now, after one was created,
// changed or deleted. It never blocks.
func (m *Manager) Refresh() {
	select {
	case m.refresh <- struct{}{}:
	default:
	}
}

// reconcile starts the forwarders that are new, restarts those whose
// settings changed and stops those that were deleted.
func (m *Manager) reconcile(ctx context.Context) error {
	fs, err := m.cfg.Store.Forwarders(ctx, trail.Scope{All: true})
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	seen := map[string]bool{}
	for _, f := range fs {
		seen[f.ID] = true
		r := m.running[f.ID]
		if r != nil && r.f.UpdatedAt.Equal(f.UpdatedAt) {
			continue
		}
		if r != nil {
			m.stop(r, false)
		}
		m.running[f.ID] = m.start(ctx, f)
	}
	for id, r := range m.running {
		if !seen[id] {
			m.stop(r, true)
			delete(m.running, id)
		}
	}
	return nil
}

func (m *Manager) start(ctx context.Context, f *trail.Forwarder) *running {
	ctx, cancel := context.WithCancel(ctx)
	r := &running{f: f, cancel: cancel, done: make(chan struct{}),
		wake: m.cfg.Follower.Subscribe(m.cfg.Poll)}
	lease := trail.LeaseConfig{Name: f.LeaseName(), Holder: m.cfg.Holder, TTL: m.cfg.LeaseTTL, Logger: m.log}
	go func() {
		defer close(r.done)
		trail.RunWithLease(ctx, m.cfg.Store, lease, func(ctx context.Context) error {
			return m.drive(ctx, f, r.wake)
		})
	}()
	return r
}

// stop ends r's loop and waits for it, so that it has saved its progress.
func (m *Manager) stop(r *running, deleted bool) {
	r.cancel()
	<-r.done
	r.wake.Close()
	if deleted {
		m.m.forget(r.f)
	}
}

func (m *Manager) stopAll() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, r := range m.running {
		m.stop(r, false)
		delete(m.running, id)
	}
}

// drive runs f's delivery loop once this node holds its lease. It reads
// f again first: the progress in hand may be older than that of the node
// that held the lease before.
func (m *Manager) drive(ctx context.Context, f *trail.Forwarder, wake *trail.Wake) error {
	cur, err := m.cfg.Store.Forwarder(ctx, f.Tenant, f.Name)
	if err != nil || cur.ID != f.ID || !cur.UpdatedAt.Equal(f.UpdatedAt) {
		// Deleted or changed: the next reconcile restarts it.
		m.Refresh()
		return err
	}
	out, err := newSender(cur, m.cfg.Now, guardFor(m.guard, cur))
	if err != nil {
		return err
	}
	defer out.close()
	r := &runner{f: cur, s: m.cfg.Store, out: out, m: m.m, log: m.log, cfg: &m.cfg, wake: wake, st: *cur.Status}
	return r.run(ctx)
}
