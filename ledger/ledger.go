// Package ledger makes Trail's event logs tamper-evident. Every log (one per
// tenant, and one of system events) is an RFC 6962 Merkle tree whose leaf i
// is the event with Seq i. A sequencer integrates new events in batches and
// signs a checkpoint (C2SP tlog-checkpoint, Ed25519 through
// golang.org/x/mod/sumdb/note) for every log that grew; inclusion and
// consistency proofs are built from stored tree tiles with
// github.com/transparency-dev/merkle; the verifier recomputes every leaf
// from the stored events and names the first sequence number that was
// modified, deleted, inserted or reordered.
package ledger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/trailhq/trail"
)

// LeaseName is the lease under which one node at a time sequences.
const LeaseName = "ledger"

// DefaultOrigin is the deployment origin when none is configured.
const DefaultOrigin = "trail.local"

// Store is what the ledger reads and writes.
type Store interface {
	trail.EventStore
	trail.LedgerStore
}

// Config configures a Ledger. Zero fields take the defaults.
type Config struct {
	// Origin names the deployment in checkpoint origins, e.g.
	// "audit.example.com"; DefaultOrigin when empty.
	Origin string
	// Key signs checkpoints. Required.
	Key *Key
	// Interval is how often the sequencer looks for new events that no
	// commit on this node announced, i.e. those of other nodes (200 ms).
	Interval time.Duration
	// Follower wakes the sequencer when this node's Writer commits; nil
	// leaves it to Interval and Trigger.
	Follower *trail.Follower
	// BatchSize is how many events one round integrates at most (5000).
	BatchSize int
	// Logger receives sequencer errors; nil discards.
	Logger *slog.Logger
	// Now is the clock (time.Now).
	Now func() time.Time
}

// Ledger sequences the logs of a store and serves their checkpoints and
// proofs. Run sequences; every other method may be called on any node.
type Ledger struct {
	store Store
	cfg   Config
	wake  *trail.Wake

	// Sequencer state, touched by Run only.
	cursor int64
	logs   map[string]*logState
	sorted bool // the store has no operator records left to move
}

// New returns a ledger over s.
func New(s Store, cfg Config) (*Ledger, error) {
	if cfg.Key == nil {
		return nil, errors.New("ledger: no signing key")
	}
	if cfg.Origin == "" {
		cfg.Origin = DefaultOrigin
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 200 * time.Millisecond
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 5000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Ledger{store: s, cfg: cfg, wake: cfg.Follower.Subscribe(cfg.Interval)}, nil
}

// Origin returns the deployment origin.
func (l *Ledger) Origin() string { return l.cfg.Origin }

// Key returns the signing key.
func (l *Ledger) Key() *Key { return l.cfg.Key }

// Trigger asks the sequencer, if it runs in this process, to integrate new
// events now instead of at its next tick.
func (l *Ledger) Trigger() { l.wake.Notify() }

// Run sequences until ctx ends, following the stream with
// Config.Follower: when this node's Writer commits, every Interval for
// other nodes' commits, and whenever Trigger is called, it integrates new events and signs checkpoints for the logs that
// grew. Run it under trail.RunWithLease with LeaseName, so that one node at
// a time sequences; the store fences off a round of a node that lost its
// lease without noticing yet. Run returns on a store error, and
// RunWithLease starts it again.
func (l *Ledger) Run(ctx context.Context) error {
	l.cursor, l.logs = -1, map[string]*logState{}
	if err := l.checkKey(ctx); err != nil {
		return err
	}
	// Under steady ingest, rounds stay Interval apart (calm): a round per
	// commit would cost the writer a transaction per commit.
	return l.wake.Follow(ctx, l.cfg.BatchSize, l.cfg.Interval, func(ctx context.Context) (int, error) {
		n, err := l.Step(ctx)
		if trail.ErrorCode(err) == trail.ECONFLICT && ctx.Err() == nil {
			// Another node committed a round: this node lost its lease
			// and RunWithLease will stop it, or the other node did and
			// will stop. Step has dropped its cached state either way.
			l.cfg.Logger.Warn("ledger round lost to another sequencer", "err", err)
			return 0, nil
		}
		return n, err
	})
}

// Verifier returns a verifier of this ledger's store, with its key and
// origin.
func (l *Ledger) Verifier() *Verifier {
	return &Verifier{Source: l.store, Key: l.cfg.Key.Verifier(), Origin: l.cfg.Origin}
}

// Store returns the store the ledger reads and writes.
func (l *Ledger) Store() Store { return l.store }

// checkKey refuses to sequence with a key other than the one that signed
// the stored checkpoints: a node started without the shared --ledger-key
// would otherwise sign with its own key after a failover, and every
// checkpoint after that would fail verification with the published key.
func (l *Ledger) checkKey(ctx context.Context) error {
	heads, err := l.store.LedgerHeads(ctx)
	if err != nil {
		return fmt.Errorf("ledger heads: %w", err)
	}
	for _, h := range heads {
		if _, err := OpenCheckpoint(h.Checkpoint, l.cfg.Key.Verifier()); err != nil {
			return fmt.Errorf("ledger: the checkpoint of log %q is not signed by this node's key %s (%v): "+
				"give every node the same key file (--ledger-key)", h.Tenant, l.cfg.Key.VerifierKey(), err)
		}
	}
	return nil
}
