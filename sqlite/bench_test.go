package sqlite_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/teststore"
	"github.com/trailhq/trail/sqlite"
)

var benchDB = flag.String("sqlite.benchdb", "",
	"file of the 1M-event database of BenchmarkEvents1M, kept between runs (default: a temporary file)")

// gen makes realistic events of about 500 bytes of JSON: 3% system events,
// 30% of tenant "acme", the rest spread over 49 tenants; 40 actions in 8
// families; 20,000 actors; one or two targets; metadata, IP, user agent,
// trace id. It is deterministic, so runs are comparable.
type gen struct {
	r  *rand.Rand
	at time.Time
}

func newGen(seed uint64) *gen {
	return &gen{r: rand.New(rand.NewPCG(seed, 1)), at: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

var (
	families = []string{"user", "document", "project", "billing", "api_key", "member", "settings", "export"}
	verbs    = []string{"created", "updated", "deleted", "viewed", "shared"}
)

func (g *gen) tenant() string {
	switch n := g.r.IntN(100); {
	case n < 3:
		return ""
	case n < 33:
		return "acme"
	default:
		return fmt.Sprintf("tenant-%02d", g.r.IntN(49))
	}
}

func (g *gen) event() *trail.Event {
	g.at = g.at.Add(time.Duration(g.r.IntN(5000)) * time.Millisecond) // 1M events span about a month
	occurred := g.at.Add(-time.Duration(g.r.IntN(2000)) * time.Millisecond).Truncate(time.Microsecond)
	fam := families[min(int(g.r.ExpFloat64()*2), len(families)-1)]
	actor := fmt.Sprintf("user_%05d", g.r.IntN(20000))
	e := &trail.Event{
		ID: trail.NewID(g.at), Tenant: g.tenant(), Action: fam + "." + verbs[g.r.IntN(len(verbs))],
		OccurredAt: occurred, ReceivedAt: g.at,
		Actor:   trail.Actor{Type: trail.ActorUser, ID: actor, Name: "User " + actor[5:]},
		Targets: []trail.Target{{Type: "document", ID: fmt.Sprintf("doc_%06d", g.r.IntN(100000)), Name: "Quarterly plan"}},
		Context: trail.Context{
			IP:        fmt.Sprintf("10.%d.%d.%d", g.r.IntN(256), g.r.IntN(256), g.r.IntN(256)),
			UserAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15",
		},
		Metadata: json.RawMessage(fmt.Sprintf(`{"request_id":"req_%016x","changes":{"field":"title","old":"Draft %d","new":"Final %d"},"reason":"routine update"}`,
			g.r.Uint64(), g.r.IntN(1000), g.r.IntN(1000))),
		Version: 1,
		TraceID: fmt.Sprintf("%016x%016x", g.r.Uint64(), g.r.Uint64()),
	}
	if g.r.IntN(2) == 0 {
		e.Targets = append(e.Targets, trail.Target{Type: "user", ID: fmt.Sprintf("user_%05d", g.r.IntN(20000))})
	}
	return e
}

func (g *gen) events(n int) []*trail.Event {
	evs := make([]*trail.Event, n)
	for i := range evs {
		evs[i] = g.event()
	}
	return evs
}

// BenchmarkAppendBatches measures the store's raw ingest ceiling: one
// AppendBatches call (one transaction, one fsync) per op, with the real
// schema, background indexing and merges, into a store that grows as b.N
// grows. Shapes are batches x events per batch: 1000 events a call, and
// 5000 (the Writer's default largest group). The generator's actors are
// mostly new to the store (20,000 actors over 50 tenants), the worst case
// of the actor directory; "-known" appends the same events again, under
// new ids, after a first pass that is not timed: every actor and target
// type is then known, the directory's steady state.
func BenchmarkAppendBatches(b *testing.B) {
	for _, shape := range []struct {
		name            string
		batches, events int  // batches per call, as the Writer groups requests
		encoded         bool // batches come encoded, as the HTTP handlers send them
		known           bool // the actors were appended before
	}{{"1x1000", 1, 1000, false, false}, {"10x100", 10, 100, false, false}, {"5x1000", 5, 1000, false, false},
		{"5x1000-encoded", 5, 1000, true, false}, {"5x1000-known", 5, 1000, false, true}} {
		b.Run(shape.name, func(b *testing.B) {
			db := mustOpen(b, filepath.Join(b.TempDir(), "trail.db"))
			g := newGen(1)
			calls := make([][]*trail.Batch, b.N)
			for i := range calls {
				for range shape.batches {
					batch := &trail.Batch{Events: g.events(shape.events)}
					if shape.encoded {
						if err := batch.Encode(); err != nil {
							b.Fatal(err)
						}
					}
					calls[i] = append(calls[i], batch)
				}
			}
			if shape.known {
				calls = teststore.AppendedAgain(b, db, calls)
			}
			cpu := cpuTime()
			commits0, cpu0, background0 := db.WriteTimes()
			b.ResetTimer()
			for _, batches := range calls {
				if err := db.AppendBatches(context.Background(), batches); err != nil {
					b.Fatal(err)
				}
			}
			n := float64(b.N * shape.batches * shape.events)
			b.ReportMetric(n/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/n, "cpu-µs/event")
			// The serial part: time inside commits, and their CPU time;
			// beside them the indexer's and merger's in the index file.
			commits, commitCPU, background := db.WriteTimes()
			b.ReportMetric(float64((commits-commits0).Microseconds())/n, "commit-µs/event")
			b.ReportMetric(float64((commitCPU-cpu0).Microseconds())/n, "commit-cpu-µs/event")
			b.ReportMetric(float64((background-background0).Microseconds())/n, "background-µs/event")
		})
	}
}

// cpuTime returns the CPU time (user and system) the process has used: on
// a shared machine it tells cost apart from waiting for a core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// load1M opens the benchmark database and fills it with 1,000,000 events
// in calls of 10,000, unless it holds them already.
func load1M(b *testing.B) *sqlite.DB {
	path := *benchDB
	if path == "" {
		path = filepath.Join(b.TempDir(), "trail.db")
	}
	db := mustOpen(b, path)
	last, err := db.StreamEvents(context.Background(), 999_999, 1)
	first, err2 := db.StreamEvents(context.Background(), 0, 1)
	switch {
	case err != nil || err2 != nil:
		b.Fatal(err, err2)
	case len(last) == 1:
		return db
	case len(first) == 1:
		b.Fatalf("%s holds some events but not 1M: remove it", path)
	}
	g := newGen(42)
	start := time.Now()
	for range 100 {
		if err := db.AppendBatches(context.Background(), []*trail.Batch{{Events: g.events(10000)}}); err != nil {
			b.Fatal(err)
		}
	}
	if err := db.MergeAll(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded 1M events in %v", time.Since(start))
	// Queries are measured on a store whose indexer has caught up and whose
	// merges are done, as a store is once ingest calms down.
	if err := db.MergeAll(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Logf("indexed and merged in %v", time.Since(start))
	return db
}
