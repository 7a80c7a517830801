package ledger_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/testenv"
	"github.com/trailhq/trail/internal/teststore"
	"github.com/trailhq/trail/ledger"
)

// crashLeaser never releases a lease, as a node that dies does not: the
// next node must wait for it to expire.
type crashLeaser struct{ trail.Leaser }

func (crashLeaser) ReleaseLease(context.Context, string, string) error { return nil }

// TestFailover runs sequencers on two "nodes" over one PostgreSQL store,
// sharing one key, while events arrive from several goroutines. The first
// node dies without releasing its lease; the second takes over once it
// expires, and every event ends up sealed exactly once, in order. A third
// node with another key never signs anything.
func TestFailover(t *testing.T) {
	s := teststore.Postgres(t)
	key, err := ledger.LoadOrCreateKey(filepath.Join(t.TempDir(), ledger.KeyFile), origin)
	if err != nil {
		t.Fatal(err)
	}
	node := func(holder string, k *ledger.Key, l trail.Leaser) (context.CancelFunc, *ledger.Ledger) {
		led, err := ledger.New(s, ledger.Config{Key: k, Origin: origin, BatchSize: 50})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		lease := trail.LeaseConfig{Name: ledger.LeaseName, Holder: holder, TTL: time.Second}
		go func() { defer close(done); trail.RunWithLease(ctx, l, lease, led.Run) }()
		stop := func() { cancel(); <-done }
		t.Cleanup(stop)
		return stop, led
	}
	stopA, _ := node("a", key, crashLeaser{s})
	appendEvents(t, s, "acme", 10)
	waitSize(t, s, "acme", 10) // a sequences: it started alone
	_, b := node("b", key, s)
	other, err := ledger.LoadOrCreateKey(filepath.Join(t.TempDir(), ledger.KeyFile), origin)
	if err != nil {
		t.Fatal(err)
	}
	node("c", other, s)

	var wg sync.WaitGroup
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				appendEvents(t, s, []string{"acme", "globex", trail.SystemTenant}[w], 7)
				if w == 0 && i == 3 {
					stopA() // a dies mid-ingest, holding the lease
				}
			}
		}()
	}
	wg.Wait()
	for tenant, want := range map[string]int64{"acme": 80, "globex": 70, "": 70} {
		head, err := b.Checkpoint(ctxT(t), tenant)
		if err != nil {
			t.Fatal(err)
		}
		if head.Size != want {
			waitSize(t, s, tenant, want)
		}
	}
	reports, err := b.Verifier().VerifyAll(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reports {
		if !r.OK() || r.Pending != 0 {
			t.Errorf("log %q: %s %v", r.Tenant, r.Summary(), r.Problems)
		}
	}
}

// waitSize polls until tenant's checkpoint has size want.
func waitSize(t *testing.T, s ledger.Store, tenant string, want int64) {
	t.Helper()
	var h *trail.LedgerHead
	var err error
	if !testenv.Poll(20*time.Second, func() bool {
		h, err = s.LedgerHead(ctxT(t), tenant)
		return err == nil && h.Size == want
	}) {
		t.Fatalf("log %q: checkpoint %+v (%v), want size %d within 20s", tenant, h, err, want)
	}
}

func TestRunRefusesAnotherKey(t *testing.T) {
	e := newEnv(t, ledger.Config{})
	appendEvents(t, e.db, "acme", 3)
	e.sequence(t)
	other, err := ledger.LoadOrCreateKey(filepath.Join(t.TempDir(), ledger.KeyFile), origin)
	if err != nil {
		t.Fatal(err)
	}
	led, _ := ledger.New(e.db, ledger.Config{Key: other, Origin: origin})
	err = led.Run(ctxT(t))
	if err == nil || !strings.Contains(err.Error(), "--ledger-key") {
		t.Fatalf("Run with another key: %v, want a refusal naming --ledger-key", err)
	}
}
