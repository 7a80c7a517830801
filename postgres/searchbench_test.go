package postgres_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/pgtest"
	"github.com/trailhq/trail/postgres"
)

// BenchmarkSearch measures full-text search on a durable throwaway server,
// and prints the lines docs/benchmarks.md's tables are made from:
//
//  1. Ingest with search off and on, in alternating pairs on fresh
//     databases: TRAIL_BENCH_SEARCH_INGEST (default 100,000) events of
//     the preload's shape (about 1 KB of JSON, 30 tokens), in batches of
//     100 from 8 producers through the group-commit writer. Off, the
//     store writes no tokens and the search indexes are dropped: the
//     store as it was before search.
//
//  2. A store of TRAIL_BENCH_SEARCH_N (default 2,000,000) preloaded events
//     with their tokens and indexes, then first pages (100 events, newest
//     first, tenant key) of a rare word (a trace id: one event, another each
//     time), a common word (in every event), a word in a tenth of the
//     events, and a phrase, 200 times each.
//
//     go test -run '^$' -bench Search -benchtime 1x -timeout 3h ./postgres/
func BenchmarkSearch(b *testing.B) {
	srv, err := pgtest.NewServer(pgtest.Options{Durable: true, Settings: map[string]string{
		"shared_buffers": "1GB", "max_wal_size": "8GB", "checkpoint_timeout": "15min",
		"work_mem": "16MB", "maintenance_work_mem": "512MB",
	}})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	for b.Loop() {
		fmt.Printf("load average at start: %s\n", loadAverage())
		n := envInt("TRAIL_BENCH_SEARCH_INGEST", 100_000)
		for pair := range 3 {
			var r [2]ingestRun
			for i, on := range []bool{false, true} {
				r[i] = searchIngest(b, srv, n, on)
			}
			fmt.Printf("ingest pair %d: off %.0f events/s, on %.0f events/s, on/off %.2f; "+
				"CPU µs/event off %.0f (Go %.0f), on %.0f (Go %.0f), off/on %.2f (load %s)\n",
				pair+1, r[0].rate, r[1].rate, r[1].rate/r[0].rate, r[0].cpu, r[0].goCPU, r[1].cpu, r[1].goCPU,
				r[0].cpu/r[1].cpu, loadAverage())
		}
		if n := envInt("TRAIL_BENCH_SEARCH_N", 2_000_000); n > 0 {
			searchPages(b, srv, n)
		}
	}
}

// ingestRun is what one ingest run measured: events per second, and CPU
// time per event in microseconds, of the server and this process (cpu)
// and of this process alone (goCPU). On a shared box, CPU per event is
// the steadier figure.
type ingestRun struct{ rate, cpu, goCPU float64 }

// searchIngest appends n events to a fresh store with search on or off.
func searchIngest(b *testing.B, srv *pgtest.Server, n int, on bool) ingestRun {
	db := MustOpen(b, srv.NewDB(b))
	db.SetSearchIndexing(on)
	if !on {
		if _, err := db.Pool().Exec(context.Background(), "DROP INDEX events_search, events_unsearched, events_unpaired"); err != nil {
			b.Fatal(err)
		}
	}
	pm := postmaster(b, db)
	server0, go0 := processCPU(pm, true), processCPU(os.Getpid(), false)
	rate := searchIngestOn(b, db, n)
	// The server's work of the last commits (GIN pending list merges by
	// autovacuum aside) is done when the last append returns.
	server, goCPU := processCPU(pm, true)-server0, processCPU(os.Getpid(), false)-go0
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(n) }
	return ingestRun{rate: rate, cpu: per(server + goCPU), goCPU: per(goCPU)}
}

// postmaster returns the process id of db's server.
func postmaster(b *testing.B, db *postgres.DB) int {
	var pid int
	if err := db.Pool().QueryRow(context.Background(), "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		b.Fatal(err)
	}
	return statOf(pid).ppid
}

// processCPU returns the CPU time (user and system) of process pid, and
// with tree, of its children, living (from /proc) and ended (which the
// postmaster waits for, so the kernel adds them to its own).
func processCPU(pid int, tree bool) time.Duration {
	s := statOf(pid)
	total := s.cpu
	if !tree {
		return total
	}
	total += s.children
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		if p, err := strconv.Atoi(d.Name()); err == nil && p != pid {
			if c := statOf(p); c.ppid == pid {
				total += c.cpu
			}
		}
	}
	return total
}

type procStat struct {
	ppid          int
	cpu, children time.Duration
}

// statOf reads /proc/pid/stat: the parent, and the CPU time of the
// process and of its ended children (in clock ticks of 1/100 s).
func statOf(pid int) procStat {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return procStat{}
	}
	f := strings.Fields(string(b)[i+1:]) // from field 3, the state
	num := func(k int) int {
		n, _ := strconv.Atoi(f[k-3])
		return n
	}
	tick := func(n int) time.Duration { return time.Duration(n) * 10 * time.Millisecond }
	return procStat{ppid: num(4), cpu: tick(num(14) + num(15)), children: tick(num(16) + num(17))}
}

// searchIngestOn appends n events to db through the group-commit writer
// and returns the events appended per second.
func searchIngestOn(b *testing.B, db *postgres.DB, n int) float64 {
	ctx := context.Background()
	g := gen{step: time.Second, first: time.Now().Add(-time.Duration(n) * time.Second)}
	batches := make(chan *trail.Batch, 8)
	go func() {
		defer close(batches)
		for lo := 0; lo < n; lo += 100 {
			bt := &trail.Batch{}
			for i := lo; i < min(lo+100, n); i++ {
				bt.Events = append(bt.Events, genEvent(&g, i))
			}
			batches <- bt
		}
	}()
	w := trail.NewWriter(db, 5000, nil)
	defer w.Close()
	start := time.Now()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for bt := range batches {
				if err := w.Append(ctx, bt); err != nil {
					b.Error(err)
				}
			}
		})
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds()
}

// genEvent returns event i of the preload's generator as an event to
// append.
func genEvent(g *gen, i int) *trail.Event {
	v := make([]any, 15)
	g.event(i, v)
	e, err := trail.DecodeEvent([]byte(v[12].(string)))
	if err != nil {
		panic(err)
	}
	e.ID, e.Seq = trail.NewID(e.OccurredAt), 0
	return e
}

// searchPages preloads n events and times first pages of searches.
func searchPages(b *testing.B, srv *pgtest.Server, n int) {
	ctx := context.Background()
	dsn := srv.NewDB(b)
	db := MustOpen(b, dsn)
	took, err := preload(ctx, db, n)
	if err != nil {
		b.Fatal(err)
	}
	fmt.Printf("preloaded %d events with their tokens and indexes in %s (load %s)\n", n, took.Round(time.Second), loadAverage())
	db = MustOpen(b, dsn) // as a node that starts on it
	g := gen{step: 365 * 24 * time.Hour / time.Duration(n)}
	queries := map[string]func(k int) string{
		// The trace id of one of tenant00's events, another each time.
		"rare word":                 func(k int) string { return g.fields((k * 7919 % (n / 10)) * 10).trace },
		"common word (every event)": func(int) string { return "enterprise" },
		"a tenth of events":         func(int) string { return "deploy" },
		"common phrase":             func(int) string { return `"user number"` },
		"prefix":                    func(k int) string { return fmt.Sprintf("proj_%03d*", k%1000) },
		"field and word":            func(k int) string { return fmt.Sprintf("actor.id:user_%05d viewer", (k%500)*10) },
	}
	for _, name := range slices.Sorted(mapKeys(queries)) {
		var t searchTimes
		for k := range 200 {
			t.page(ctx, b, db, trail.Query{Scope: trail.Scope{Tenant: "tenant00"}, Desc: true, Limit: 100}, queries[name](k))
		}
		fmt.Printf("search %-26s %s\n", name, &t)
	}
	for _, text := range []string{queries["rare word"](1), "enterprise"} {
		s, _ := trail.ParseSearch(text)
		plan, err := db.Explain(ctx, &trail.Query{Scope: trail.Scope{Tenant: "tenant00"}, Desc: true, Limit: 100, Search: s})
		if err != nil {
			b.Fatal(err)
		}
		fmt.Printf("\nplan of %s:\n%s\n", text, plan)
	}
	fmt.Printf("load average at end: %s\n", loadAverage())
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// searchTimes collects the times of first pages of searches.
type searchTimes struct {
	took  []time.Duration
	found int
}

// page times the page of q with the search text.
func (t *searchTimes) page(ctx context.Context, b *testing.B, db *postgres.DB, q trail.Query, text string) {
	s, err := trail.ParseSearch(text)
	if err != nil {
		b.Fatal(err)
	}
	q.Search = s
	start := time.Now()
	p, err := db.Events(ctx, &q)
	if err != nil {
		b.Fatal(err)
	}
	t.took = append(t.took, time.Since(start))
	t.found += len(p.Events)
}

func (t *searchTimes) String() string {
	slices.Sort(t.took)
	n := len(t.took)
	return fmt.Sprintf("p50 %8.2f ms  p99 %8.2f ms  max %8.2f ms  (%d events a page, %d tries)",
		ms(t.took[n/2]), ms(t.took[n*99/100]), ms(t.took[n-1]), t.found/n, n)
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// loadAverage returns the box's load averages (1, 5, 15 minutes).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	var l1, l5, l15 string
	fmt.Sscan(string(b), &l1, &l5, &l15)
	return l1 + " " + l5 + " " + l15
}
