package postgres_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/pgtest"
	"github.com/trailhq/trail/internal/testenv"
	"github.com/trailhq/trail/postgres"
)

// node is one RunWithLease loop on its own store handle, as one `trail
// serve` process would run it.
type node struct {
	name    string
	db      *postgres.DB
	cancel  context.CancelFunc
	done    chan struct{}
	running atomic.Bool
}

// leaseWatch counts how many nodes run the leased work at once.
type leaseWatch struct {
	mu      sync.Mutex
	now     int
	overlap bool
}

func (w *leaseWatch) enter() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.now++
	w.overlap = w.overlap || w.now > 1
}

func (w *leaseWatch) leave() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.now--
}

// startPair starts two nodes on a fresh database (migrated once, so both
// start on a ready schema) and returns the one that takes the lease within
// wait, then the other.
func startPair(t *testing.T, ttl, wait time.Duration, w *leaseWatch) (holder, other *node) {
	t.Helper()
	dsn := pgtest.NewDB(t)
	MustOpen(t, dsn)
	a, b := startNode(t, "node-a", dsn, ttl, w), startNode(t, "node-b", dsn, ttl, w)
	holder = waitRunning(t, wait, a, b)
	if holder == b {
		return b, a
	}
	return a, b
}

func startNode(t *testing.T, name, dsn string, ttl time.Duration, w *leaseWatch) *node {
	t.Helper()
	db, err := postgres.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &node{name: name, db: db, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(n.done)
		trail.RunWithLease(ctx, db, trail.LeaseConfig{Name: "retention", Holder: name, TTL: ttl},
			func(ctx context.Context) error {
				w.enter()
				n.running.Store(true)
				<-ctx.Done()
				n.running.Store(false)
				w.leave()
				return nil
			})
	}()
	t.Cleanup(func() {
		n.cancel()
		<-n.done
		n.db.Close()
	})
	return n
}

// waitRunning polls until exactly one of nodes runs the work and returns it.
func waitRunning(t *testing.T, within time.Duration, nodes ...*node) *node {
	t.Helper()
	var on []*node
	testenv.Eventually(t, within, "a single node to run the leased work", func() bool {
		on = on[:0]
		for _, n := range nodes {
			if n.running.Load() {
				on = append(on, n)
			}
		}
		return len(on) == 1
	})
	return on[0]
}

func TestLeaseFailover(t *testing.T) {
	const ttl = 900 * time.Millisecond
	var w leaseWatch
	holder, other := startPair(t, ttl, 5*time.Second, &w)
	// Both keep trying for a while: still exactly one runs.
	deadline := time.Now().Add(3 * ttl)
	for time.Now().Before(deadline) {
		if !holder.running.Load() || other.running.Load() {
			t.Fatalf("while %s held the lease: %s running=%v, %s running=%v",
				holder.name, holder.name, holder.running.Load(), other.name, other.running.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}

	t.Run("HolderKilled", func(t *testing.T) {
		// The holder's database connections vanish, as when its process is
		// killed: it neither renews nor releases, so the lease must expire.
		killed := time.Now()
		holder.db.Close()
		got := waitRunning(t, 3*ttl+2*time.Second, other)
		if got != other {
			t.Fatalf("work moved to %s, want %s", got.name, other.name)
		}
		if took := time.Since(killed); took > 3*ttl {
			t.Errorf("takeover took %v, want within %v", took, 3*ttl)
		}
		if holder.running.Load() {
			t.Errorf("%s still runs the work after losing its database", holder.name)
		}
	})
	if w.overlap {
		t.Error("two nodes ran the leased work at the same time")
	}
}

func TestLeaseHandoverOnShutdown(t *testing.T) {
	const ttl = 3 * time.Second
	var w leaseWatch
	holder, other := startPair(t, ttl, 10*time.Second, &w)
	// A clean stop releases the lease, so the other node takes over at its
	// next attempt (TTL/3), well before the lease would have expired.
	stopped := time.Now()
	holder.cancel()
	<-holder.done
	waitRunning(t, ttl, other)
	if took := time.Since(stopped); took >= ttl {
		t.Errorf("handover after a clean stop took %v, want less than the TTL %v", took, ttl)
	}
	if w.overlap {
		t.Error("two nodes ran the leased work at the same time")
	}
}
