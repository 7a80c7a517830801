package postgres_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/pgtest"
)

// BenchmarkSkewedPages fills a store on a durable throwaway server with
// TRAIL_BENCH_SKEW (default 300,000) events of skewed shapes (skewEvents)
// through the store's append path, then times each filter's first page
// (50 events) three times, for the largest tenant, a small one and a
// platform key, and a JSON export of everything, right after ingest (no
// ANALYZE) and again after ANALYZE. It prints "scope filter phase [three
// times]" lines, from which docs/benchmarks.md's tables are made.
// TRAIL_BENCH_NO_AUTO_ANALYZE=1 turns Trail's own analyses off, so that
// "before" has no statistics but autovacuum's; TRAIL_BENCH_TENANTS=many
// fills the many-tenants shape (manyTenant: 300 tenants, a few big):
//
//	go test -run '^$' -bench SkewedPages -benchtime 1x ./postgres/
func BenchmarkSkewedPages(b *testing.B) {
	srv, err := pgtest.NewServer(pgtest.Options{Durable: true, Settings: map[string]string{"shared_buffers": "1GB"}})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	for b.Loop() {
		db := MustOpen(b, srv.NewDB(b))
		if os.Getenv("TRAIL_BENCH_NO_AUTO_ANALYZE") != "" {
			db.SetAnalyzeAfter(0) // no statistics at all before the manual ANALYZE
		}
		n := envInt("TRAIL_BENCH_SKEW", 300_000)
		start := time.Now()
		tenant := skewTenant
		if os.Getenv("TRAIL_BENCH_TENANTS") == "many" {
			tenant = manyTenant
		}
		fillSkewed(b, db, n, tenant)
		fmt.Printf("filled %d events in %s\n", n, time.Since(start).Round(time.Second))
		for _, phase := range []string{"before", "after"} {
			if phase == "after" {
				if _, err := db.Pool().Exec(context.Background(), "ANALYZE"); err != nil {
					b.Fatal(err)
				}
			}
			skewExport(b, db, phase)
			skewPages(b, db, phase)
		}
	}
}

// skewQueries are the filters timed, by the names docs/benchmarks.md uses.
func skewQueries() map[string]trail.Query {
	now := time.Now()
	return map[string]trail.Query{
		"newest":            {},
		"action":            {Actions: []string{"doc.action3"}},
		"actor":             {ActorID: "user_00042"},
		"type+action":       {TargetType: "document", Actions: []string{"doc.action3"}},
		"type only":         {TargetType: "document"},
		"rare type":         {TargetType: "invoice"},
		"type+id":           {TargetType: "document", TargetID: "doc_000042"},
		"id only":           {TargetID: "doc_000042"},
		"actor+type":        {ActorID: "user_00042", TargetType: "document"},
		"range":             {Since: now.Add(-2 * time.Hour), Until: now.Add(-time.Hour)},
		"prefix":            {Actions: []string{"doc.*"}},
		"sort action":       {Sort: trail.SortAction},
		"sort action+actor": {Sort: trail.SortAction, ActorID: "user_00042"},
		"sort actor":        {Sort: trail.SortActor},
		"sort actor+action": {Sort: trail.SortActor, Actions: []string{"doc.action3"}},
		"sort actor+rare":   {Sort: trail.SortActor, Actions: []string{"doc.purge"}},
		"sort name":         {Sort: trail.SortActorName},
		"sort name+action":  {Sort: trail.SortActorName, Actions: []string{"doc.action3"}},
		"sort name+rare":    {Sort: trail.SortActorName, Actions: []string{"doc.purge"}},
		"sort name+actor":   {Sort: trail.SortActorName, ActorID: "user_00042"},
		"sort type":         {Sort: trail.SortTargetType},
		"sort type+action":  {Sort: trail.SortTargetType, Actions: []string{"doc.action3"}},
		"sort type+type":    {Sort: trail.SortTargetType, TargetType: "document"},
		"sort id":           {Sort: trail.SortTargetID},
		"sort id+target":    {Sort: trail.SortTargetID, TargetType: "document", TargetID: "doc_000042"},
	}
}

func skewPages(b *testing.B, db interface {
	Events(context.Context, *trail.Query) (*trail.Page, error)
}, phase string) {
	qs := skewQueries()
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range qs {
			if !yield(k) {
				return
			}
		}
	})
	for _, tenant := range []string{"org00", "org12", "*"} {
		for _, name := range names {
			q := qs[name]
			q.Scope = trail.Scope{Tenant: tenant, All: tenant == "*"}
			q.Desc, q.Limit = true, 50
			var took []string
			for range 3 {
				start := time.Now()
				if _, err := db.Events(context.Background(), &q); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start).Round(10*time.Microsecond).String())
			}
			fmt.Printf("%s %s %s [%s]\n", tenant, name, phase, strings.Join(took, " "))
		}
	}
}

func skewExport(b *testing.B, db trail.EventStore, phase string) {
	for _, sc := range []trail.Scope{{All: true}, {Tenant: "org00"}} {
		start := time.Now()
		n := 0
		err := trail.ExportJSON(context.Background(), db, trail.Query{Scope: sc, Desc: true},
			func([]byte) error { n++; return nil })
		if err != nil {
			b.Fatal(err)
		}
		d := time.Since(start)
		fmt.Printf("export %s all=%v %s: %d events in %s, %.0f events/s\n",
			sc.Tenant, sc.All, phase, n, d.Round(time.Millisecond), float64(n)/d.Seconds())
	}
}
