package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/pgtest"
	"github.com/trailhq/trail/internal/testenv"
	"github.com/trailhq/trail/postgres"
)

// searchFixture appends events of three tenants (and system events) whose
// strings the search queries below pick apart: a word in every event
// (common), one in a single event (rare), phrases in and out of order,
// words in other fields than a query names, metadata, IPs and non-ASCII
// text.
func searchFixture(t *testing.T, db *postgres.DB) []*trail.Event {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	names := []string{"Ada Lovelace", "Lovelace Ada", "Grace Hopper", "Émile Zürich", "ada"}
	var evs []*trail.Event
	b := &trail.Batch{}
	for i := range 120 {
		at := now.Add(-time.Duration(120-i) * 37 * time.Hour) // four months and more
		e := &trail.Event{ID: trail.NewID(at), Tenant: []string{"acme", "globex", "initech", ""}[i%4],
			Action: []string{"document.shared", "user.login", "invoice.paid"}[i%3], OccurredAt: at, ReceivedAt: now, Version: 1,
			Actor: trail.Actor{Type: "user", ID: fmt.Sprintf("user_%02d", i%7), Name: names[i%len(names)]},
			Targets: []trail.Target{{Type: []string{"document", "folder"}[i%2], ID: fmt.Sprintf("doc-%d", i%9),
				Name: fmt.Sprintf("Plan Q%d", i%4)}},
			Context:  trail.Context{IP: fmt.Sprintf("203.0.%d.%d", 113+i%2, i), UserAgent: "Mozilla/5.0 (X11; Linux)"},
			Metadata: json.RawMessage(fmt.Sprintf(`{"ticket":"OPS-%d","common":"everywhere","note":"ada in a note %d"}`, 1200+i%11, i)),
		}
		if i == 77 {
			e.Metadata = json.RawMessage(`{"ticket":"OPS-9999","common":"everywhere","rare":"xylophone"}`)
		}
		b.Events = append(b.Events, e)
		evs = append(evs, e)
		if len(b.Events) == 25 {
			if err := db.AppendBatches(context.Background(), []*trail.Batch{b}); err != nil {
				t.Fatal(err)
			}
			b = &trail.Batch{}
		}
	}
	return evs
}

var searchQueries = []string{
	"ada", "ADA lovelace", `"ada lovelace"`, `"lovelace ada"`, "lov*", "xylophone", "everywhere",
	"actor.name:ada", "metadata.ticket:OPS-1203", "metadata.ticket:ops-12*", "metadata:rare", "metadata.note:ada",
	"ip:203.0.113.*", "ip:203.0.114.7", "ada OR hopper", "ada AND NOT lovelace", "-ada", "NOT (ada OR grace)",
	"zürich", "émile", "target.name:q2", "document shared", "nothing_matches_this",
	"(grace OR émile) user_03", "user_0*",
}

// TestSearch reads every query's pages, two events at a time and
// continued with cursors, through both ways a search reads (the GIN index
// and the walk of the page's index), for tenant scopes, a platform key,
// other filters, every sort and both directions, and compares them with a
// full read of the same filters kept by Match.
func TestSearch(t *testing.T) {
	db := MustOpen(t, pgtest.NewDB(t))
	searchFixture(t, db)
	filters := map[string]trail.Query{
		"acme":       {Scope: trail.Scope{Tenant: "acme"}},
		"every":      {Scope: trail.Scope{All: true}},
		"system":     {Scope: trail.Scope{Tenant: trail.SystemTenant}},
		"action":     {Scope: trail.Scope{All: true}, Actions: []string{"user.*"}},
		"actor":      {Scope: trail.Scope{Tenant: "globex"}, ActorID: "user_03"},
		"target":     {Scope: trail.Scope{All: true}, TargetType: "document"},
		"target id":  {Scope: trail.Scope{All: true}, TargetID: "doc-4"},
		"range":      {Scope: trail.Scope{All: true}, Since: time.Now().Add(-60 * 24 * time.Hour), Until: time.Now().Add(-20 * 24 * time.Hour)},
		"actor name": {Scope: trail.Scope{Tenant: "initech"}, ActorName: "Grace Hopper"},
	}
	for _, walk := range []int{0, -1, 3} {
		db.SetSearchWalk(walk)
		if walk == 3 { // a walk of three rows, then the index three candidate keys at a time
			db.SetSearchKeyLimit(3)
		}
		for name, f := range filters {
			sorts := []string{trail.SortOccurredAt}
			if name == "acme" || name == "every" || name == "actor" {
				sorts = append(sorts, trail.SortAction, trail.SortActor)
			}
			for _, sort := range sorts {
				for _, desc := range []bool{true, false} {
					for _, text := range searchQueries {
						s, err := trail.ParseSearch(text)
						if err != nil {
							t.Fatal(err)
						}
						q := f
						q.Sort, q.Desc = sort, desc
						want := matchAll(t, db, q, s)
						q.Search, q.Limit = s, 2
						got := readPages(t, db, q)
						if !slices.Equal(ids(got), ids(want)) {
							t.Errorf("walk %d, %s, sort %s desc %v, q=%s:\n got %v\nwant %v",
								walk, name, sort, desc, text, ids(got), ids(want))
						}
					}
				}
			}
		}
	}
}

// matchAll reads every event of q's filters in one page and keeps those s
// matches: what a search must return.
func matchAll(t *testing.T, db trail.EventStore, q trail.Query, s *trail.Search) []*trail.Event {
	t.Helper()
	q.Limit = trail.MaxLimit
	p, err := db.Events(context.Background(), &q)
	if err != nil || p.Next != nil {
		t.Fatalf("full read: %v (more: %v)", err, p != nil && p.Next != nil)
	}
	return slices.DeleteFunc(p.Events, func(e *trail.Event) bool { return !s.Match(e) })
}

// readPages reads q page by page.
func readPages(t *testing.T, db trail.EventStore, q trail.Query) []*trail.Event {
	t.Helper()
	var out []*trail.Event
	for range 1000 {
		p, err := db.Events(context.Background(), &q)
		if err != nil {
			t.Fatalf("search %s: %v", q.Search, err)
		}
		out = append(out, p.Events...)
		if p.Next == nil {
			return out
		}
		q.After = p.Next
	}
	t.Fatal("too many pages")
	return nil
}

// TestSearchExport exports a search: the same events as its pages, as
// stored.
func TestSearchExport(t *testing.T) {
	db := MustOpen(t, pgtest.NewDB(t))
	searchFixture(t, db)
	for _, walk := range []int{0, -1} {
		db.SetSearchWalk(walk)
		s, _ := trail.ParseSearch("ada OR xylophone")
		q := trail.Query{Scope: trail.Scope{All: true}, Desc: true}
		want := matchAll(t, db, q, s)
		q.Search = s
		var got []string
		err := trail.ExportJSON(context.Background(), db, q, func(data []byte) error {
			e, err := trail.DecodeEvent(data)
			if err == nil {
				got = append(got, e.ID)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, ids(want)) || len(got) == 0 {
			t.Errorf("walk %d: export %v, want %v", walk, got, ids(want))
		}
	}
}

// TestSearchPlans checks the plans of both steps of a search, whatever
// its words: a walk of the page's own ordered index scan with the
// narrowing checked on each row, cut by a LIMIT, and a read of the GIN
// index (and the partial index of events without tokens) kept to one
// window of partitions, the cursor's month, whose keys alone are sorted.
func TestSearchPlans(t *testing.T) {
	db := MustOpen(t, pgtest.NewDB(t))
	searchFixture(t, db)
	db.SetSearchWalk(10)
	for _, text := range []string{"xylophone", "everywhere", `"lovelace ada"`} {
		s, _ := trail.ParseSearch(text)
		plan, err := db.Explain(context.Background(), &trail.Query{Scope: trail.Scope{Tenant: "acme"}, Desc: true, Limit: 5, Search: s})
		if err != nil {
			t.Fatal(err)
		}
		walk, gin, ok := strings.Cut(plan, "-- 2. GIN, first window")
		if !ok {
			t.Fatalf("%s: no GIN step in the plan:\n%s", text, plan)
		}
		checkPlanHas(t, text+", walk", walk, `Limit`, `Index Scan Backward using events_p\d+_tenant_occurred_at_id_idx`)
		if strings.Contains(walk, "Filter: ((search @@") {
			t.Errorf("%s: the walk filters rows by the narrowing, so its LIMIT does not bound the rows read:\n%s", text, walk)
		}
		checkPlanHas(t, text+", GIN", gin, `Bitmap Index Scan on events_p\d+_search_idx`,
			`Bitmap Index Scan on events_p\d+_occurred_at_idx`, `BitmapOr`, `Sort`, `CTE m`)
		if strings.Contains(text, `"`) {
			// A phrase narrows by its pair, and also reads the events
			// without pairs (events_unpaired) beside them.
			checkPlanHas(t, text+", GIN", gin, `search_pairs IS NULL`, `Bitmap Index Scan on events_p\d+_occurred_at_idx1`)
		}
		if m := regexp.MustCompile(`Index Scan( Backward)? on \S+_(tenant|occurred_at_id|action|actor)\S*_idx|Seq Scan`).FindString(gin); m != "" {
			t.Errorf("%s: the GIN step reads %s:\n%s", text, m, gin)
		}
		if n := strings.Count(gin, "Bitmap Heap Scan on events_p"); n != 1 {
			t.Errorf("%s: the GIN step's first window reads %d partitions, want the cursor's month:\n%s", text, n, gin)
		}
	}
}

// checkPlanHas checks that plan matches every pattern of want.
func checkPlanHas(t *testing.T, name, plan string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !regexp.MustCompile(w).MatchString(plan) {
			t.Errorf("%s: plan lacks %s:\n%s", name, w, plan)
		}
	}
}

// TestSearchBackfill: events stored without tokens (before migration 20),
// and with tokens but no pairs (before migration 26), are found by every
// search at once, and the backfill gives them their tokens and pairs.
func TestSearchBackfill(t *testing.T) {
	db := MustOpen(t, pgtest.NewDB(t))
	searchFixture(t, db)
	ctx := context.Background()
	for _, u := range []string{
		"UPDATE events SET search = NULL, search_pairs = NULL WHERE seq % 3 = 0",
		// Words only, as written before pairs were.
		`UPDATE events SET search = array_to_tsvector(ARRAY(SELECT l FROM unnest(search) AS x(l, p, w) WHERE l NOT LIKE '% %')),
			search_pairs = NULL WHERE seq % 3 = 1`,
	} {
		if _, err := db.Pool().Exec(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	check := func(phase string) {
		t.Helper()
		for _, walk := range []int{0, -1} {
			db.SetSearchWalk(walk)
			for _, text := range []string{"xylophone", "ada", `"ada lovelace"`, "ip:203.0.113.*", "-ada", `"plan q2"`, "metadata.common:everywhere"} {
				s, _ := trail.ParseSearch(text)
				q := trail.Query{Scope: trail.Scope{All: true}, Desc: true}
				want := matchAll(t, db, q, s)
				q.Search, q.Limit = s, 7
				if got := readPages(t, db, q); !slices.Equal(ids(got), ids(want)) || len(want) == 0 {
					t.Errorf("%s, walk %d, q=%s: got %v, want %v", phase, walk, text, ids(got), ids(want))
				}
			}
		}
	}
	check("without tokens")
	if err := db.BackfillSearch(ctx); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := db.Pool().QueryRow(ctx, "SELECT count(*) FROM events WHERE search IS NULL OR search_pairs IS NULL").Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d events left without tokens or pairs (%v)", left, err)
	}
	check("backfilled")
}

// TestSearchLongWord: a word longer than a tsvector's lexemes may be is
// indexed by its start and still found, exactly.
func TestSearchLongWord(t *testing.T) {
	db := MustOpen(t, pgtest.NewDB(t))
	long := strings.Repeat("é", 1500) // 3,000 bytes
	at := time.Now().UTC()
	var evs []*trail.Event
	for i, w := range []string{long + "a", long + "b"} {
		evs = append(evs, &trail.Event{ID: trail.NewID(at), Tenant: "acme", Action: "doc.read", OccurredAt: at.Add(time.Duration(i) * time.Second),
			ReceivedAt: at, Version: 1, Actor: trail.Actor{Type: "user", ID: "u1"},
			Metadata: json.RawMessage(`{"word":"` + w + `"}`)})
	}
	if err := db.AppendBatches(context.Background(), []*trail.Batch{{Events: evs}}); err != nil {
		t.Fatal(err)
	}
	for _, walk := range []int{0, -1} {
		db.SetSearchWalk(walk)
		// A query is at most 1,000 bytes: its words are never cut.
		for q, want := range map[string][]string{
			strings.Repeat("é", 400) + "*":                    {evs[1].ID, evs[0].ID},
			"metadata.word:" + strings.Repeat("é", 400) + "*": {evs[1].ID, evs[0].ID},
			"actor.id:" + strings.Repeat("é", 400) + "*":      {},
			strings.Repeat("é", 400):                          {},
		} {
			s, err := trail.ParseSearch(q)
			if err != nil {
				t.Fatal(err)
			}
			got := readPages(t, db, trail.Query{Scope: trail.Scope{Tenant: "acme"}, Desc: true, Search: s})
			if !slices.Equal(ids(got), want) {
				t.Errorf("walk %d, %.20s...: got %v, want %v", walk, q, ids(got), want)
			}
		}
	}
}

// TestSearchPendingList: the store merges the search index's pending
// entries by itself after cleanPendingAfter events, so that no append has
// to.
func TestSearchPendingList(t *testing.T) {
	db := MustOpen(t, pgtest.NewDB(t))
	ctx := context.Background()
	pool := db.Pool()
	if _, err := pool.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pgstattuple"); err != nil {
		testenv.Require(t, "pgstattuple", "install postgresql-contrib", err)
	}
	pending := func() int {
		var n int
		err := pool.QueryRow(ctx, `SELECT coalesce(sum((pgstatginindex(i.inhrelid::regclass)).pending_pages), 0)::int
			FROM pg_inherits AS i WHERE i.inhparent = 'events_search'::regclass`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	batches := skewEvents(2100, 3, time.Now(), skewTenant)
	if err := db.AppendBatches(ctx, batches[:1]); err != nil {
		t.Fatal(err)
	}
	if n := pending(); n == 0 {
		t.Fatal("no pending entries after an append")
	}
	if err := db.AppendBatches(ctx, batches[1:]); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "pending list merged", func() bool { return pending() == 0 })
}
