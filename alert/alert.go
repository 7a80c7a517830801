// Package alert evaluates alert rules on the event stream and delivers
// their firings: each firing is recorded as an event (actor type "alert")
// through the trail.Writer and sent to the rule's webhook, as plain JSON or
// as Slack-compatible JSON.
//
// The Evaluator is singleton work: run it under trail.RunWithLease with
// lease LeaseName. It follows the stream by Pos, and stores its cursor, its
// window states and its new firings in one transaction per round, fenced
// by the cursor it started from; a firing is unique per (rule, window,
// group) in the store. So a restart or a failover to another node resumes
// exactly where the last saved round ended and never fires twice for one
// window.
package alert

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/forward"
)

// LeaseName is the lease that the Evaluator runs under.
const LeaseName = "alerts"

// Store is what the Evaluator needs from a store.
type Store interface {
	trail.EventStore
	trail.AlertStore
}

// Config holds what an Evaluator needs. Store and Writer are required.
type Config struct {
	Store  Store
	Writer *trail.Writer
	// Client sends webhooks; nil means a client with a 10 second timeout.
	Client *http.Client
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Poll is how long an idle evaluator waits before reading the stream
	// again, unless a commit on this node wakes it; 0 means one second.
	Poll time.Duration
	// Follower wakes the evaluator when this node's Writer commits; nil
	// leaves it to Poll.
	Follower *trail.Follower
	// Batch is how many events one round reads; 0 means 1000.
	Batch int
	// SaveEvery is how long a cursor that moved only over events matching
	// no rule may stay unsaved; 0 means 5 seconds. Anything that changes a
	// window or fires is saved at once.
	SaveEvery time.Duration
	// MaxAttempts is how often a webhook is tried before the firing is
	// given up; 0 means 15 (with backoff from 1s to 10m, about an hour).
	MaxAttempts int
	// AllowNetworks are the non-public networks (loopback, private, ...)
	// that tenants' webhooks may reach; see forward.Guard. Client sends
	// the webhooks of platform rules, which may reach any address.
	AllowNetworks []netip.Prefix
}

// Evaluator evaluates every rule on the stream and delivers firings.
type Evaluator struct {
	cfg Config
	log *slog.Logger
	// tenant sends tenants' webhooks, through a forward.Guard.
	tenant *http.Client
}

// New returns an Evaluator for cfg.
func New(cfg Config) *Evaluator {
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 1000
	}
	if cfg.SaveEvery <= 0 {
		cfg.SaveEvery = 5 * time.Second
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 15
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tenant := &http.Client{Timeout: cfg.Client.Timeout, Transport: forward.NewGuard(cfg.AllowNetworks).Transport()}
	if tenant.Timeout == 0 {
		tenant.Timeout = 10 * time.Second
	}
	return &Evaluator{cfg: cfg, log: log, tenant: tenant}
}

// Run evaluates the stream and delivers firings until ctx ends or a step
// fails; it returns the failure (nil when ctx ended). Run it only while
// holding lease LeaseName:
//
//	go trail.RunWithLease(ctx, store, trail.LeaseConfig{Name: alert.LeaseName, ...}, ev.Run)
func (ev *Evaluator) Run(ctx context.Context) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)
	go func() { errc <- ev.evaluate(wctx) }()
	go func() { errc <- ev.deliverLoop(wctx) }()
	err := <-errc
	cancel()
	if err2 := <-errc; err == nil {
		err = err2
	}
	if ctx.Err() != nil {
		return nil // stopped, not failed
	}
	return err
}

// evaluate loads the saved state and runs rounds until ctx ends.
func (ev *Evaluator) evaluate(ctx context.Context) error {
	st, err := ev.load(ctx)
	if err != nil {
		return err
	}
	wake := ev.cfg.Follower.Subscribe(ev.cfg.Poll)
	defer wake.Close()
	// Under steady ingest, rounds stay Poll apart (calm), as before the
	// evaluator was woken by commits.
	return wake.Follow(ctx, ev.cfg.Batch, ev.cfg.Poll, st.round)
}

// load reads the cursor and windows; before the first round ever, the
// cursor starts at the stream's head, so that rules see new events only.
func (ev *Evaluator) load(ctx context.Context) (*state, error) {
	if _, err := ev.cfg.Store.StartAlertCursor(ctx); err != nil {
		return nil, err
	}
	cursor, windows, err := ev.cfg.Store.AlertState(ctx)
	if err != nil {
		return nil, fmt.Errorf("load alert state: %w", err)
	}
	st := &state{ev: ev, cursor: cursor, saved: cursor, savedAt: ev.cfg.Now(),
		windows: map[trail.AlertWindowKey]*trail.AlertWindow{}}
	for _, w := range windows {
		st.windows[trail.AlertWindowKey{RuleID: w.RuleID, GroupKey: w.GroupKey}] = w
	}
	return st, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
