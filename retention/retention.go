// Package retention deletes events past their tenant's retention, never
// those under a legal hold, and execution logs past theirs.
//
// Events go in Seq order: a run asks the store for the first event of each
// log that is not yet past its cutoff, records the sealed prefix before it
// as pruned with the ledger (trail.LedgerStore.RecordPruned, which caps it
// at the last checkpoint), then deletes the events of that prefix that no
// hold covers. So the ledger verifier reports the prefix as pruned, with
// the checkpoint that covered it, and checks the held events still inside
// it. Events never sealed by a checkpoint are never deleted. On stores that
// partition events by month (PostgreSQL), whole months whose every event
// may go are dropped first.
//
// Once a log's pruned prefix reaches its first event inside retention,
// the run also forgets the directory entries (actor names, target types)
// of that tenant last seen on a day before the cutoff's
// (trail.EventStore.PruneDirectory); a tenant-wide hold keeps them.
//
// What a run deleted is recorded in each tenant's log as a
// "retention.deleted" event (actor type system) through the trail.Writer.
// The background job runs under lease LeaseName.
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/trailhq/trail"
)

// LeaseName is the lease that the background job runs under.
const LeaseName = "retention"

// DefaultLogRetention is how long execution logs are kept.
const DefaultLogRetention = 30 * 24 * time.Hour

// Store is what retention needs from a store.
type Store interface {
	trail.EventStore
	trail.RetentionStore
	trail.LedgerStore
	trail.LogStore
}

// Config holds what a Runner needs. Store and Writer are required.
type Config struct {
	Store  Store
	Writer *trail.Writer
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Every is how often the background job runs; 0 means one hour.
	Every time.Duration
	// LogRetention is how long execution logs are kept, apart from
	// events; 0 means DefaultLogRetention.
	LogRetention time.Duration
	// Chunk is how many events one delete transaction examines; 0 means
	// 1000, which keeps each write transaction short.
	Chunk int
}

// Runner runs retention. Its methods are safe for concurrent use; runs on
// one node take turns.
type Runner struct {
	cfg Config
	log *slog.Logger
	mu  sync.Mutex
}

// New returns a Runner for cfg.
func New(cfg Config) *Runner {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Every <= 0 {
		cfg.Every = time.Hour
	}
	if cfg.LogRetention <= 0 {
		cfg.LogRetention = DefaultLogRetention
	}
	if cfg.Chunk <= 0 {
		cfg.Chunk = 1000
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{cfg: cfg, log: log}
}

// Report is what one run did.
type Report struct {
	StartedAt time.Time       `json:"started_at"`
	Tenants   []*TenantReport `json:"tenants"`
	// LogsDeleted counts execution log records deleted.
	LogsDeleted int64 `json:"logs_deleted"`
}

// TenantReport is what one run did to one tenant's log.
type TenantReport struct {
	Tenant string    `json:"tenant"`
	Days   int       `json:"days"`
	Cutoff time.Time `json:"cutoff"`
	// PrunedTo is the end of the log's pruned prefix after the run: events
	// with Seq below it are gone unless a hold keeps them.
	PrunedTo int64 `json:"pruned_to"`
	// NewlyPruned is the range [From, To) recorded by this run, if any.
	NewlyPruned *trail.PrunedRange `json:"newly_pruned,omitempty"`
	Deleted     int64              `json:"deleted"`
	// OnHold is set when a tenant-wide legal hold kept every event.
	OnHold bool `json:"on_hold,omitempty"`
	// DirectoryPruned counts the actor names and target types forgotten
	// because their events are gone.
	DirectoryPruned int64 `json:"directory_pruned,omitempty"`

	end int64 // where the log's expired prefix ends (RetentionEnd)
}

// Run runs retention every Config.Every until ctx ends. Run it only while
// holding lease LeaseName:
//
//	go trail.RunWithLease(ctx, store, trail.LeaseConfig{Name: retention.LeaseName, ...}, r.Run)
func (r *Runner) Run(ctx context.Context) error {
	t := time.NewTicker(r.cfg.Every)
	defer t.Stop()
	for {
		rep, err := r.RunOnce(ctx, nil, nil)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			r.log.Error("retention run", "err", err)
		default:
			r.logReport(rep)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (r *Runner) logReport(rep *Report) {
	for _, tr := range rep.Tenants {
		if tr.Deleted > 0 {
			r.log.Info("retention deleted events", "tenant", tr.Tenant, "deleted", tr.Deleted, "pruned_to", tr.PrunedTo)
		}
	}
	if rep.LogsDeleted > 0 {
		r.log.Info("retention deleted execution logs", "deleted", rep.LogsDeleted)
	}
}

// RunOnce runs retention now over every log, or over tenant's log only
// when tenant is not nil (execution logs are then left alone). by, when
// not nil, is the key that asked for the run; it is named in the recorded
// events.
func (r *Runner) RunOnce(ctx context.Context, tenant *string, by *trail.APIKey) (*Report, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.cfg.Now().UTC()
	rep := &Report{StartedAt: now, Tenants: []*TenantReport{}}
	heads, err := r.cfg.Store.LedgerHeads(ctx)
	if err != nil {
		return nil, fmt.Errorf("list sealed logs: %w", err)
	}
	var errs []error
	for _, h := range heads {
		if tenant != nil && h.Tenant != *tenant {
			continue
		}
		tr, err := r.prune(ctx, h.Tenant, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("tenant %q: %w", h.Tenant, err))
			continue
		}
		rep.Tenants = append(rep.Tenants, tr)
	}
	if err := r.drop(ctx, rep, now); err != nil {
		errs = append(errs, err)
	}
	for _, tr := range rep.Tenants {
		if err := r.deleteAndRecord(ctx, tr, by); err != nil {
			errs = append(errs, fmt.Errorf("tenant %q: %w", tr.Tenant, err))
		}
	}
	if tenant == nil {
		n, err := r.pruneLogs(ctx, now)
		rep.LogsDeleted = n
		errs = append(errs, err)
	}
	return rep, errors.Join(errs...)
}
