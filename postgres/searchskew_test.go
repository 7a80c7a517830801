package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/pgtest"
	"github.com/trailhq/trail/postgres"
)

// Search shapes over the skewed store (skewEvents), as the issues name
// them. Every event has a note of common words (alpha beta, admin or
// adjust, ...), a ticket and a unique reference; a few events hold words
// or word orders that are rare.
const (
	skewDeployEvery = 100    // "deploy" in 1% of events
	skewBetaAlpha   = 10_000 // "beta alpha" (the words out of their usual order) every 10,000th event
	skewTickets     = 5_000  // ticket OPS-<i mod 5,000>
)

// searchSkewEvents returns skewEvents(n) with metadata that searches pick
// apart: a note of common words, a ticket, a unique reference r<i>.
func searchSkewEvents(n int, now time.Time) []*trail.Batch {
	batches := skewEvents(n, 1, now, skewTenant)
	r := rand.New(rand.NewPCG(2, 3))
	i := 0
	for _, b := range batches {
		for _, e := range b.Events {
			note := "alpha beta"
			if i%skewBetaAlpha == 5 {
				note = "beta alpha"
			}
			note += []string{" admin", " adjust", " address"}[r.IntN(3)]
			if i%skewDeployEvery == 3 {
				note += " deploy"
			}
			e.Metadata, _ = json.Marshal(map[string]string{"note": note,
				"ticket": fmt.Sprintf("OPS-%d", i%skewTickets), "ref": fmt.Sprintf("r%d", i)})
			i++
		}
	}
	return batches
}

// fillSearchSkewed appends n events of searchSkewEvents through the
// store's append path, batch after batch as the writer groups them
// (per of 100 events at a time).
func fillSearchSkewed(tb testing.TB, db *postgres.DB, n, per int) {
	tb.Helper()
	batches := searchSkewEvents(n, time.Now())
	for i := 0; i < len(batches); i += per {
		if err := db.AppendBatches(context.Background(), batches[i:min(i+per, len(batches))]); err != nil {
			tb.Fatal(err)
		}
	}
}

// searchSkewCase is a search shape: a query text (made anew for each try
// k, so that a rare word is another event's each time) with filters.
type searchSkewCase struct {
	name string
	text func(k int) string
	q    trail.Query
}

func fixed(s string) func(int) string { return func(int) string { return s } }

// searchSkewCases are the shapes of issues 17 and 18, for a store of n
// events of searchSkewEvents.
func searchSkewCases(n int) []searchSkewCase {
	rare := func(k int) string { return fmt.Sprintf("r%d", (k*7919)%n) }
	return []searchSkewCase{
		{name: "rare word", text: rare},
		{name: "common word", text: fixed("alpha")},
		{name: "word in 1%", text: fixed("deploy")},
		{name: "no such word", text: fixed("zanzibar")},
		{name: "prefix of a common word", text: fixed("ad*")},
		{name: "rare phrase of common words", text: fixed(`"beta alpha"`)},
		{name: "common phrase", text: fixed(`"alpha beta"`)},
		{name: "field actor.name", text: fixed("actor.name:some")},
		{name: "field metadata.ticket", text: func(k int) string { return fmt.Sprintf("metadata.ticket:OPS-%d", k%skewTickets) }},
		{name: "field ip prefix", text: fixed("ip:10.0.1.*")},
		{name: "NOT", text: fixed("admin -deploy")},
		{name: "OR", text: func(k int) string { return "deploy OR " + rare(k) }},
		{name: "action + word", text: fixed("deploy"), q: trail.Query{Actions: []string{"doc.action3"}}},
		{name: "actor + word", text: fixed("admin"), q: trail.Query{ActorID: "user_00042"}},
		{name: "target + word", text: fixed("admin"), q: trail.Query{TargetType: "document", TargetID: "doc_000042"}},
		{name: "sort action", text: fixed("deploy"), q: trail.Query{Sort: trail.SortAction}},
		{name: "sort actor", text: fixed("admin"), q: trail.Query{Sort: trail.SortActor}},
	}
}

// BenchmarkSearchSkewed fills a store on a durable throwaway server with
// TRAIL_BENCH_SEARCH_SKEW (default 300,000) events of searchSkewEvents
// through the store's append path (TRAIL_BENCH_SEARCH_BATCHES batches of
// 100 a call, default 5, as the writer groups HTTP requests), then times
// the first page (50 events, newest first) of every search shape for the
// largest tenant (org00, about half the events), a small one (org08, about
// 0.2%) and a platform key, TRAIL_BENCH_SEARCH_TRIES times each (default
// 20, but no more than TRAIL_BENCH_SEARCH_BUDGET seconds of tries after the
// third, default 30), right after ingest (no manual ANALYZE) and again
// after ANALYZE. It prints a "phase scope shape p50 p99 max" line per
// shape:
//
//	go test -run '^$' -bench SearchSkewed -benchtime 1x -timeout 3h ./postgres/
func BenchmarkSearchSkewed(b *testing.B) {
	srv, err := pgtest.NewServer(pgtest.Options{Durable: true, Settings: map[string]string{
		"shared_buffers": "1GB", "max_wal_size": "8GB", "checkpoint_timeout": "15min",
	}})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	for b.Loop() {
		fmt.Printf("load average at start: %s\n", loadAverage())
		db := MustOpen(b, srv.NewDB(b))
		n := envInt("TRAIL_BENCH_SEARCH_SKEW", 300_000)
		start := time.Now()
		fillSearchSkewed(b, db, n, envInt("TRAIL_BENCH_SEARCH_BATCHES", 5))
		fmt.Printf("filled %d events in %s (load %s)\n", n, time.Since(start).Round(time.Second), loadAverage())
		for _, phase := range []string{"before", "after"} {
			if phase == "after" {
				if _, err := db.Pool().Exec(context.Background(), "ANALYZE"); err != nil {
					b.Fatal(err)
				}
			}
			searchSkewPages(b, db, n, phase)
			fmt.Printf("load average after %s: %s\n", phase, loadAverage())
		}
	}
}

func searchSkewPages(b *testing.B, db *postgres.DB, n int, phase string) {
	ctx := context.Background()
	tries := envInt("TRAIL_BENCH_SEARCH_TRIES", 20)
	for _, scope := range []trail.Scope{{Tenant: "org00"}, {Tenant: "org08"}, {All: true}} {
		name := scope.Tenant
		if scope.All {
			name = "*"
		}
		for _, c := range searchSkewCases(n) {
			var t searchTimes
			budget := time.Now().Add(time.Duration(envInt("TRAIL_BENCH_SEARCH_BUDGET", 30)) * time.Second)
			for k := 0; k < tries && (k < 3 || time.Now().Before(budget)); k++ {
				q := c.q
				q.Scope, q.Desc, q.Limit = scope, true, 50
				t.page(ctx, b, db, q, c.text(k))
			}
			fmt.Printf("%s %-5s %-28s %s\n", phase, name, c.name, &t)
		}
	}
	if os.Getenv("TRAIL_BENCH_SEARCH_PLANS") != "" {
		for _, c := range searchSkewCases(n) {
			s, _ := trail.ParseSearch(c.text(1))
			q := c.q
			q.Scope, q.Desc, q.Limit, q.Search = trail.Scope{Tenant: "org08"}, true, 50, s
			plan, err := db.Explain(ctx, &q)
			if err != nil {
				b.Fatal(err)
			}
			fmt.Printf("\nplan of %s (org08):\n%s\n", c.name, plan)
		}
	}
}

// TestSearchSkewedPlans checks the plans of both steps of every search
// shape (searchSkewCases) on a store of skewed shapes filled through the
// append path, for the largest tenant, a small one and a platform key,
// right after ingest (no ANALYZE) and after ANALYZE: the walk is the
// page's own plan (ordered index scans under a LIMIT, no sort, no
// sequential scan) with the narrowing never a filter of its scans, and
// the GIN step of a page in time order reads one partition, through the
// search indexes alone. A plan that let the statistics choose another
// index, a sort of a whole filter, or every partition at once fails.
func TestSearchSkewedPlans(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a store")
	}
	ctx := context.Background()
	db := MustOpen(t, pgtest.NewDB(t))
	const n = 30_000
	fillSearchSkewed(t, db, n, 5)
	for _, phase := range []string{"NoAnalyze", "Analyzed"} {
		if phase == "Analyzed" {
			if _, err := db.Pool().Exec(ctx, "ANALYZE"); err != nil {
				t.Fatal(err)
			}
		}
		t.Run(phase, func(t *testing.T) {
			for _, scope := range []trail.Scope{{Tenant: "org00"}, {Tenant: "org08"}, {All: true}} {
				for _, c := range searchSkewCases(n) {
					t.Run(fmt.Sprintf("%s/%s", scope.Tenant, c.name), func(t *testing.T) {
						s, err := trail.ParseSearch(c.text(1))
						if err != nil {
							t.Fatal(err)
						}
						q := c.q
						q.Scope, q.Desc, q.Limit, q.Search = scope, true, 50, s
						plan, err := db.Explain(ctx, &q)
						if err != nil {
							t.Fatal(err)
						}
						walk, gin, _ := strings.Cut(plan, "-- 2. GIN, first window")
						checkSearchPlans(t, q, walk, gin)
					})
				}
			}
		})
	}
}

var (
	searchIndexes = regexp.MustCompile(`^events_p\d+_(search_idx|occurred_at_idx1?)$`)
	bitmapIndex   = regexp.MustCompile(`Bitmap Index Scan on (\S+)`)
	eventsScan    = regexp.MustCompile(`(Seq Scan|Index (Only )?Scan( Backward)? using \S+) on events_p`)
)

// checkSearchPlans checks the plans of a search's walk and GIN step.
func checkSearchPlans(t *testing.T, q trail.Query, walk, gin string) {
	t.Helper()
	if !strings.Contains(walk, "Limit") {
		t.Errorf("the walk has no LIMIT:\n%s", walk)
	}
	if strings.Contains(walk, "Filter: ((search @@") || strings.Contains(walk, "Filter: (((search @@") {
		t.Errorf("the walk filters rows by the narrowing, so its LIMIT does not bound the rows read:\n%s", walk)
	}
	if m := badNodes.FindString(withoutLateralSort(walk)); m != "" && !strings.Contains(walk, "CTE m") {
		t.Errorf("the walk uses %q:\n%s", m, walk)
	}
	if gin == "" {
		return // nothing to narrow by
	}
	for _, m := range bitmapIndex.FindAllStringSubmatch(gin, -1) {
		if !strings.HasPrefix(m[1], "event_targets") && !searchIndexes.MatchString(m[1]) {
			t.Errorf("the GIN step reads %s:\n%s", m[1], gin)
		}
	}
	if m := eventsScan.FindString(gin); m != "" {
		t.Errorf("the GIN step reads %q:\n%s", m, gin)
	}
	if q.SortKey() == trail.SortOccurredAt {
		if n := strings.Count(gin, "Bitmap Heap Scan on events_p"); n != 1 {
			t.Errorf("the GIN step's first window reads %d partitions, want the cursor's month:\n%s", n, gin)
		}
	}
}
