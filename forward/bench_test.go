package forward_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/forward"
)

// countingReceiver is a webhook receiver that counts the events it gets
// and, when asked, how long after their receipt by Trail they arrived.
type countingReceiver struct {
	*httptest.Server
	events atomic.Int64
	mu     sync.Mutex
	delays []time.Duration
}

func newCountingReceiver(tb testing.TB, delays bool) *countingReceiver {
	rc := &countingReceiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var evs []trail.Event
		if len(body) > 0 && body[0] == '[' {
			json.Unmarshal(body, &evs)
		} else {
			evs = make([]trail.Event, 1)
			json.Unmarshal(body, &evs[0])
		}
		if delays {
			now := time.Now()
			rc.mu.Lock()
			for _, e := range evs {
				rc.delays = append(rc.delays, now.Sub(e.ReceivedAt))
			}
			rc.mu.Unlock()
		}
		rc.events.Add(int64(len(evs)))
	}))
	tb.Cleanup(rc.Close)
	return rc
}

// BenchmarkWebhookThroughput measures how many events per second one
// forwarder delivers to a local webhook receiver from a backlog in SQLite,
// one event per request and in batches of 100. Run it with
// -benchtime=20000x: b.N is the number of events.
func BenchmarkWebhookThroughput(b *testing.B) {
	for _, size := range []int{1, 100} {
		b.Run(map[int]string{1: "single", 100: "batch100"}[size], func(b *testing.B) {
			s := MustOpenStore(b)
			for n := 0; n < b.N; n += 1000 {
				MustAppend(b, s, "acme", slices.Repeat([]string{"doc.viewed"}, min(1000, b.N-n))...)
			}
			rc := newCountingReceiver(b, false)
			MustCreate(b, s, &trail.Forwarder{Name: "bench", Kind: trail.ForwarderWebhook, URI: rc.URL,
				Start: trail.StartBeginning, Batch: trail.BatchConfig{Size: size}})
			b.ResetTimer()
			start := time.Now()
			stop := RunManager(b, testConfig(s, "bench"))
			for rc.events.Load() < int64(b.N) {
				time.Sleep(time.Millisecond)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			stop()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
		})
	}
}

// BenchmarkLagUnderIngest ingests 2,000 events per second through the
// group-commit Writer (20 every 10 ms, as concurrent clients would) for
// 3 seconds while a forwarder delivers them one per request, with the
// Writer's commit hook waking the forwarder as serve wires it. It reports
// the lag (events stored but not yet delivered), sampled every 10 ms, and
// the delay from an event's receipt to its delivery. Run it with
// -benchtime=1x.
func BenchmarkLagUnderIngest(b *testing.B) {
	const perTick, tick, duration = 20, 10 * time.Millisecond, 3 * time.Second
	for range b.N {
		s := MustOpenStore(b)
		rc := newCountingReceiver(b, true)
		MustCreate(b, s, &trail.Forwarder{Name: "bench", Kind: trail.ForwarderWebhook, URI: rc.URL})
		cfg := testConfig(s, "bench")
		cfg.Poll = time.Second // new events arrive through Notify
		m := forward.New(cfg)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); m.Run(ctx) }()
		w := trail.NewWriter(s, 5000, func(cs trail.CommitStats) { m.Notify() })
		time.Sleep(200 * time.Millisecond) // the forwarder takes its lease

		var sent int64
		var lags []int64
		t := time.NewTicker(tick)
		for end := time.Now().Add(duration); time.Now().Before(end); <-t.C {
			evs := make([]*trail.Event, perTick)
			for i := range evs {
				evs[i] = trail.NewSystemEvent("acme", "doc.viewed", trail.Actor{Type: trail.ActorUser, ID: "u1"},
					trail.Context{}, time.Now())
			}
			if err := w.Append(ctx, &trail.Batch{Events: evs}); err != nil {
				b.Fatal(err)
			}
			sent += perTick
			lags = append(lags, sent-rc.events.Load())
		}
		t.Stop()
		for rc.events.Load() < sent {
			time.Sleep(time.Millisecond)
		}
		w.Close()
		cancel()
		<-done
		reportLag(b, lags, rc.delays)
	}
}

func reportLag(b *testing.B, lags []int64, delays []time.Duration) {
	slices.Sort(lags)
	slices.Sort(delays)
	var sum int64
	for _, l := range lags {
		sum += l
	}
	b.ReportMetric(float64(sum)/float64(len(lags)), "mean-lag-events")
	b.ReportMetric(float64(lags[len(lags)-1]), "max-lag-events")
	b.ReportMetric(float64(delays[len(delays)/2].Microseconds())/1000, "p50-delay-ms")
	b.ReportMetric(float64(delays[len(delays)*99/100].Microseconds())/1000, "p99-delay-ms")
}
