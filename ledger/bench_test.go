package ledger_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/testenv"
	"github.com/trailhq/trail/internal/teststore"
	"github.com/trailhq/trail/ledger"
)

// BenchmarkIngest measures ingest through the group-commit writer with 8
// concurrent producers sending batches of 100 events, with the ledger off
// and on. With the ledger on, the clock stops only once a checkpoint
// covers every event, so a sequencer that falls behind shows as slower
// ingest. Compare events/s of the two (docs/benchmarks.md, "Ledger"):
//
//	go test -run '^$' -bench Ingest -benchtime 200000x -count 3 ./ledger/
func BenchmarkIngest(b *testing.B) {
	stores := map[string]func(testing.TB) ledger.Store{
		"sqlite":   func(tb testing.TB) ledger.Store { return teststore.SQLite(tb) },
		"postgres": func(tb testing.TB) ledger.Store { return teststore.Postgres(tb) },
	}
	for _, name := range []string{"sqlite", "postgres"} {
		for _, on := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/ledger=%v", name, on), func(b *testing.B) {
				benchIngest(b, stores[name](b), on)
			})
		}
	}
}

func benchIngest(b *testing.B, s ledger.Store, on bool) {
	const producers, batchSize = 8, 100
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var led *ledger.Ledger
	var wg sync.WaitGroup
	if on {
		key, err := ledger.LoadOrCreateKey(filepath.Join(b.TempDir(), ledger.KeyFile), "bench")
		if err != nil {
			b.Fatal(err)
		}
		if led, err = ledger.New(s, ledger.Config{Key: key, Origin: "bench"}); err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); led.Run(ctx) }()
	}
	w := trail.NewWriter(s, 5000, nil)
	defer w.Close()
	batches := make(chan *trail.Batch, producers)
	go func() {
		defer close(batches)
		for n := 0; n < b.N; n += batchSize {
			batches <- benchBatch(n%10, min(batchSize, b.N-n))
		}
	}()
	// The lag meter polls in both modes, so that both pay for it.
	lag := startLagMeter(ctx, s, "tenant0")
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	var pw sync.WaitGroup
	for p := 0; p < producers; p++ {
		pw.Add(1)
		go func() {
			defer pw.Done()
			for bt := range batches {
				if err := w.Append(ctx, bt); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	pw.Wait()
	ingested := time.Since(start)
	if on {
		waitSealed(b, s, b.N)
		b.ReportMetric(time.Since(start).Seconds()-ingested.Seconds(), "drain-s")
	}
	if p50, max := lag.stop(); on {
		b.ReportMetric(float64(p50.Milliseconds()), "lag-p50-ms")
		b.ReportMetric(float64(max.Milliseconds()), "lag-max-ms")
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	// CPU per event is steadier than the rate on a shared machine; for
	// PostgreSQL it leaves out the server's own work.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/event")
	cancel()
	wg.Wait()
}

// waitSealed polls until the checkpoints of the bench's logs cover n
// events.
func waitSealed(b *testing.B, s ledger.Store, n int) {
	testenv.Eventually(b, 5*time.Minute, "the ledger to seal the events", func() bool {
		var sealed int64
		for t := 0; t < 10; t++ {
			if h, err := s.LedgerHead(context.Background(), fmt.Sprintf("tenant%d", t)); err == nil {
				sealed += h.Size
			}
		}
		return sealed >= int64(n)
	})
}

var benchMeta = json.RawMessage(`{"plan":"enterprise","seats":42,"reason":"quarterly review","ticket":"OPS-1234"}`)

// benchBatch makes n realistic events of tenant t (about 600 bytes each).
func benchBatch(t, n int) *trail.Batch {
	now := time.Now()
	b := &trail.Batch{Events: make([]*trail.Event, n)}
	for i := range b.Events {
		e := trail.NewSystemEvent(fmt.Sprintf("tenant%d", t), "document.shared",
			trail.Actor{Type: "user", ID: fmt.Sprintf("user_%d", i%500), Name: "Ada Lovelace"},
			trail.Context{IP: "203.0.113.9", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"}, now,
			trail.Target{Type: "document", ID: fmt.Sprintf("doc_%d", i), Name: "Q3 plan"},
			trail.Target{Type: "user", ID: "user_7"})
		e.Metadata = benchMeta
		b.Events[i] = e
	}
	return b
}

// lagMeter measures how long events wait for a checkpoint under load: it
// samples how many events tenant's log holds and when a checkpoint first
// covers that many.
type lagMeter struct {
	mu   sync.Mutex
	lags []time.Duration
	done chan struct{}
	quit context.CancelFunc
}

func startLagMeter(ctx context.Context, s ledger.Store, tenant string) *lagMeter {
	ctx, quit := context.WithCancel(ctx)
	m := &lagMeter{done: make(chan struct{}), quit: quit}
	type sample struct {
		at   time.Time
		size int64
	}
	go func() {
		defer close(m.done)
		var waiting []sample
		for ctx.Err() == nil {
			n, err1 := s.LogSize(ctx, tenant)
			h, err2 := s.LedgerHead(ctx, tenant)
			now := time.Now()
			if err1 == nil {
				waiting = append(waiting, sample{now, n})
			}
			for err2 == nil && len(waiting) > 0 && waiting[0].size <= h.Size {
				m.mu.Lock()
				m.lags = append(m.lags, now.Sub(waiting[0].at))
				m.mu.Unlock()
				waiting = waiting[1:]
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return m
}

// stop ends the measurement and returns the median and largest lag.
func (m *lagMeter) stop() (time.Duration, time.Duration) {
	m.quit()
	<-m.done
	if len(m.lags) == 0 {
		return 0, 0
	}
	slices.Sort(m.lags)
	return m.lags[len(m.lags)/2], m.lags[len(m.lags)-1]
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
