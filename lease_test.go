package trail_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/testenv"
)

// memLeaser is an in-memory Leaser; the stores' conformance suite and the
// PostgreSQL failover test exercise real ones.
type memLeaser struct {
	mu      sync.Mutex
	holder  string
	expires time.Time
}

func (m *memLeaser) AcquireLease(_ context.Context, name, holder string, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.holder != "" && m.holder != holder && time.Now().Before(m.expires) {
		return false, nil
	}
	m.holder, m.expires = holder, time.Now().Add(ttl)
	return true, nil
}

func (m *memLeaser) ReleaseLease(_ context.Context, name, holder string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.holder == holder {
		m.holder = ""
	}
	return nil
}

func TestRunWithLeaseOneHolderAndFailover(t *testing.T) {
	l := &memLeaser{}
	var running atomic.Int32
	var maxRunning atomic.Int32
	ran := map[string]*atomic.Bool{"a": {}, "b": {}}
	work := func(node string) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			n := running.Add(1)
			if n > maxRunning.Load() {
				maxRunning.Store(n)
			}
			ran[node].Store(true)
			<-ctx.Done()
			running.Add(-1)
			return nil
		}
	}
	ctxA, stopA := context.WithCancel(context.Background())
	ctxB, stopB := context.WithCancel(context.Background())
	defer stopB()
	var wg sync.WaitGroup
	for node, ctx := range map[string]context.Context{"a": ctxA, "b": ctxB} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			trail.RunWithLease(ctx, l, trail.LeaseConfig{Name: "x", Holder: node, TTL: 150 * time.Millisecond}, work(node))
		}()
	}
	testenv.Eventually(t, 10*time.Second, "running.Load() == 1", func() bool { return running.Load() == 1 })
	first := "a"
	if ran["b"].Load() {
		first = "b"
	}
	if first == "a" {
		stopA()
	} else {
		stopB()
	}
	other := map[string]string{"a": "b", "b": "a"}[first]
	testenv.Eventually(t, 10*time.Second, "ran[other].Load() && running.Load() == 1", func() bool { return ran[other].Load() && running.Load() == 1 })
	stopA()
	stopB()
	wg.Wait()
	if maxRunning.Load() != 1 {
		t.Errorf("%d holders ran at once, want 1", maxRunning.Load())
	}
}
