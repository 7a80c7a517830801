package sqlite_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/testenv"
	"github.com/trailhq/trail/sqlite"
)

// TestSearchBenchmark measures, in one run, ingest with and without the
// search index (over the first quarter of the events, into two fresh
// stores) and first pages of searches of several shapes over
// TRAIL_SEARCH_BENCH events (2000000 for docs/benchmarks.md); it is
// skipped without that variable. It prints a Markdown table. With
// TRAIL_SEARCH_BENCH_DIR, the stores are kept in that folder and a second
// run measures the first pages of the stores it finds there, without
// ingest: the pages of two commits over the same files.
// TRAIL_SEARCH_BENCH_ONLY keeps the shapes whose name holds it.
func TestSearchBenchmark(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("TRAIL_SEARCH_BENCH"))
	if n <= 0 {
		t.Skip("set TRAIL_SEARCH_BENCH to a number of events")
	}
	ctx := context.Background()
	dir := cmp.Or(os.Getenv("TRAIL_SEARCH_BENCH_DIR"), t.TempDir())
	_, err := os.Stat(filepath.Join(dir, "indexed", "trail.db"))
	kept := err == nil
	open := func(name string, o sqlite.Options) *sqlite.DB {
		db, err := sqlite.OpenOptions(filepath.Join(dir, name, "trail.db"), o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	plain, indexed := open("plain", sqlite.Options{NoSearchIndex: true}), open("indexed", sqlite.Options{})
	if !kept {
		first := n / 4
		rateOff := ingest(t, plain, 0, first, n)
		rateOn := ingest(t, indexed, 0, first, n)
		ingest(t, indexed, first, n, n)
		ingest(t, plain, first, n, n)
		fmt.Printf("| ingest of the first %d, batches of 1000, search index off | %.0f events/s |\n", first, rateOff)
		fmt.Printf("| ingest of the first %d, batches of 1000, search index on | %.0f events/s (%.0f%% of off; target >= 80%%) |\n", first, rateOn, 100*rateOn/rateOff)
	}
	start := time.Now()
	testenv.Eventually(t, time.Hour, "the search index catches up", func() bool {
		pos, err := indexed.SearchCursor(ctx)
		return err == nil && pos >= int64(n)
	})
	fmt.Printf("| search index behind after the last commit | %v |\n", time.Since(start).Round(time.Millisecond))
	for _, c := range searchBenchShapes {
		if !strings.Contains(c.name, os.Getenv("TRAIL_SEARCH_BENCH_ONLY")) {
			continue
		}
		for _, scope := range []trail.Scope{{Tenant: tenantOf(0)}, {All: true}} {
			q := c.q
			q.Scope, q.Limit, q.Desc = scope, 50, !c.asc
			q.Search = mustParse(t, c.search)
			p50, p99, got := firstPages(t, indexed, &q, 100)
			fmt.Printf("| first page of 50, %s, all tenants %v: p50 / p99 | %v / %v (%d events) |\n",
				c.name, scope.All, p50, p99, got)
		}
	}
	q := trail.Query{Scope: trail.Scope{All: true}, Desc: true, Limit: 50, Search: mustParse(t, "zanzibar")}
	p50, p99, _ := firstPages(t, plain, &q, 3)
	fmt.Printf("| the rare word without the index (scan), all tenants: p50 / p99 | %v / %v |\n", p50, p99)
}

// searchBenchShapes are the searches TestSearchBenchmark times: a word
// in one event, in one in a thousand and in every event; a prefix; phrases;
// a search with other filters.
var searchBenchShapes = []struct {
	name, search string
	asc          bool
	q            trail.Query
}{
	{name: "rare word (1 event)", search: "zanzibar"},
	{name: "uncommon word (~0.1% of events)", search: "refund"},
	{name: "common word (every event)", search: "mozilla"},
	{name: "prefix of the rare word", search: "zanzi*"},
	{name: "phrase of the rare word", search: `"to zanzibar"`},
	{name: "phrase + field", search: `actor.name:"user number 4242"`},
	{name: "rare word, oldest first", search: "zanzibar", asc: true},
	{name: "uncommon word + actor", search: "refund", q: trail.Query{ActorID: "user_04242"}},
	{name: "common word + actor", search: "mozilla", q: trail.Query{ActorID: "user_04242"}},
	{name: "common word + action, since a week", search: "mozilla",
		q: trail.Query{Actions: []string{"project.settings.updated"}, Since: benchBase.Add(23 * 24 * time.Hour)}},
}

// TestSearchIngestCPU measures the process's CPU time per event of ingest
// into two fresh stores, without and with the search index, twice in
// turn; it is skipped without TRAIL_SEARCH_BENCH. On a shared box the
// ratio of CPU times is steadier than the ratio of ingest rates.
func TestSearchIngestCPU(t *testing.T) {
	if os.Getenv("TRAIL_SEARCH_BENCH") == "" {
		t.Skip("set TRAIL_SEARCH_BENCH to a number of events")
	}
	for run := range 2 {
		off := ingestCPU(t, filepath.Join(t.TempDir(), "off"), true)
		on := ingestCPU(t, filepath.Join(t.TempDir(), "on"), false)
		fmt.Printf("| process CPU per event, %d events in batches of 1000 until indexed, search index off / on (run %d) | %.1f / %.1f µs (off is %.0f%% of on) |\n",
			cpuEvents, run+1, off, on, 100*off/on)
	}
}

// cpuEvents is how many events ingestCPU appends.
const cpuEvents = 100000

// ingestCPU appends cpuEvents events, generated beforehand, to a fresh
// store in folder dir and returns the process's CPU time per event until
// its followers have caught up: on a shared box, the cost of the search
// index told apart from waiting for a core.
func ingestCPU(t *testing.T, dir string, noSearch bool) float64 {
	db, err := sqlite.OpenOptions(filepath.Join(dir, "trail.db"), sqlite.Options{NoSearchIndex: noSearch})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rnd := rand.New(rand.NewPCG(2, 0))
	var batches []*trail.Batch
	for first := 0; first < cpuEvents; first += 1000 {
		b := &trail.Batch{}
		for i := first; i < first+1000; i++ {
			b.Events = append(b.Events, benchEvent(rnd, benchBase, i, cpuEvents))
		}
		if err := b.Encode(); err != nil {
			t.Fatal(err)
		}
		batches = append(batches, b)
	}
	ctx := context.Background()
	cpu := cpuTime()
	for _, b := range batches {
		if err := db.AppendBatches(ctx, []*trail.Batch{b}); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, 10*time.Minute, "the followers catch up", func() bool {
		ip, err := db.IndexedPos(ctx)
		sp, err2 := int64(cpuEvents), error(nil)
		if !noSearch {
			sp, err2 = db.SearchCursor(ctx)
		}
		return err == nil && err2 == nil && ip >= cpuEvents && sp >= cpuEvents
	})
	return float64((cpuTime() - cpu).Microseconds()) / cpuEvents
}

func mustParse(t *testing.T, q string) *trail.Search {
	s, err := trail.ParseSearch(q)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func tenantOf(i int) string { return fmt.Sprintf("tenant%02d", i%10) }

// benchBase is the time of the first benchmark event: fixed, so that a
// second run over kept stores asks for the same times.
var benchBase = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// ingest appends events [from, to) of a data set of n in batches of 1000
// and returns the rate, with the events' generation kept out of the
// timing.
func ingest(t *testing.T, db *sqlite.DB, from, to, n int) float64 {
	rnd := rand.New(rand.NewPCG(1, uint64(from)))
	base := benchBase
	var spent time.Duration
	for first := from; first < to; first += 1000 {
		evs := make([]*trail.Event, 0, 1000)
		for i := first; i < min(first+1000, to); i++ {
			evs = append(evs, benchEvent(rnd, base, i, n))
		}
		b := &trail.Batch{Events: evs}
		if err := b.Encode(); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := db.AppendBatches(context.Background(), []*trail.Batch{b}); err != nil {
			t.Fatal(err)
		}
		spent += time.Since(start)
	}
	return float64(to-from) / spent.Seconds()
}

// benchEvent is a realistic event of about 500 bytes: one of 5000 actors
// in 10 tenants, one of 20000 projects, a browser user agent (the common
// word "mozilla") and a unique request id; event n/2 holds the rare word
// and one in a thousand the word "refund".
func benchEvent(rnd *rand.Rand, base time.Time, i, n int) *trail.Event {
	actor, target := rnd.IntN(5000), rnd.IntN(20000)
	// 30 days over the n events, in float64: i*30 days in nanoseconds
	// overflows an int64 past 3,558 events.
	at := base.Add(time.Duration(float64(i) / float64(n) * float64(30*24*time.Hour))).Add(-time.Duration(rnd.IntN(5000)) * time.Millisecond)
	note := "routine change"
	switch {
	case i == n/2:
		note = "shipped to zanzibar"
	case i%1000 == 7:
		note = "refund issued"
	}
	meta, _ := json.Marshal(map[string]any{"request_id": fmt.Sprintf("req_%016x", rnd.Uint64()), "note": note})
	return &trail.Event{
		ID: trail.NewID(at), Tenant: tenantOf(actor), Action: "project.settings.updated", OccurredAt: at, ReceivedAt: at,
		Actor: trail.Actor{Type: "user", ID: fmt.Sprintf("user_%05d", actor), Name: fmt.Sprintf("User Number %d", actor),
			Metadata: json.RawMessage(`{"role":"admin"}`)},
		Targets: []trail.Target{{Type: "project", ID: fmt.Sprintf("proj_%05d", target), Name: fmt.Sprintf("Project %d", target)}},
		Context: trail.Context{IP: fmt.Sprintf("10.%d.%d.%d", actor%256, target%256, i%256),
			UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36", Location: "Berlin, DE"},
		Metadata: meta,
		Version:  1,
	}
}

// firstPages runs q runs times and returns the median and 99th
// percentile time and the events of the page.
func firstPages(t *testing.T, db *sqlite.DB, q *trail.Query, runs int) (p50, p99 time.Duration, n int) {
	var ds []time.Duration
	for range runs {
		start := time.Now()
		p, err := db.Events(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, time.Since(start))
		n = len(p.Events)
	}
	slices.Sort(ds)
	at := func(f float64) time.Duration {
		return ds[min(len(ds)-1, int(f*float64(len(ds))))].Round(10 * time.Microsecond)
	}
	return at(0.5), at(0.99), n
}
