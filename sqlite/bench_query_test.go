package sqlite_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/trailhq/trail"
)

// BenchmarkEvents1M measures the latency of the first page (100 events) of
// the main queries over 1,000,000 events, and reports its p50 and p99.
// Loading takes a while; -sqlite.benchdb keeps the database between runs.
func BenchmarkEvents1M(b *testing.B) {
	db := load1M(b)
	acme := trail.Scope{Tenant: "acme"}
	month := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		q    trail.Query
	}{
		{"Latest", trail.Query{Scope: acme, Desc: true}},
		{"Oldest", trail.Query{Scope: acme}},
		{"AllTenants", trail.Query{Scope: trail.Scope{All: true}, Desc: true}},
		{"Action", trail.Query{Scope: acme, Actions: []string{"billing.deleted"}, Desc: true}},
		{"ActionPrefix", trail.Query{Scope: acme, Actions: []string{"user.*"}, Desc: true}},
		{"ActionRarePrefix", trail.Query{Scope: acme, Actions: []string{"export.*", "settings.*"}, Desc: true}},
		{"ActorID", trail.Query{Scope: acme, ActorID: "user_01234", Desc: true}},
		{"Target", trail.Query{Scope: acme, TargetType: "document", TargetID: "doc_001234", Desc: true}},
		{"TimeWindow", trail.Query{Scope: acme, Since: month, Until: month.Add(24 * time.Hour), Desc: true}},
		{"ActionInWindow", trail.Query{Scope: acme, Actions: []string{"user.*"}, Since: month, Until: month.Add(time.Hour), Desc: true}},
		{"SortAction", trail.Query{Scope: acme, Sort: trail.SortAction}},
		{"SortActorDesc", trail.Query{Scope: acme, Sort: trail.SortActor, Desc: true}},
		{"SortActorName", trail.Query{Scope: acme, Sort: trail.SortActorName}},
		{"SortActorNameAction", trail.Query{Scope: acme, Sort: trail.SortActorName, Actions: []string{"billing.deleted"}}},
		{"SortTargetTypeDesc", trail.Query{Scope: acme, Sort: trail.SortTargetType, Desc: true}},
		{"SortTargetID", trail.Query{Scope: acme, Sort: trail.SortTargetID}},
		{"SortTargetIDAllTenants", trail.Query{Scope: trail.Scope{All: true}, Sort: trail.SortTargetID, Desc: true}},
		{"AllTenantsAction", trail.Query{Scope: trail.Scope{All: true}, Actions: []string{"member.*"}, Desc: true}},
		{"SmallTenant", trail.Query{Scope: trail.Scope{Tenant: "tenant-07"}, Desc: true}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) { benchQuery(b, db, c.q) })
	}
}

// benchQuery runs q's first page b.N times and reports latency percentiles
// and the CPU time per query (which, on a shared machine, tells the cost of
// a query apart from time spent waiting for a core), after a few runs that
// warm the connections' page caches.
func benchQuery(b *testing.B, db interface {
	Events(context.Context, *trail.Query) (*trail.Page, error)
}, q trail.Query) {
	for range 20 {
		if _, err := db.Events(context.Background(), &q); err != nil {
			b.Fatal(err)
		}
	}
	times := make([]time.Duration, 0, b.N)
	cpu := cpuTime()
	for b.Loop() {
		start := time.Now()
		page, err := db.Events(context.Background(), &q)
		times = append(times, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		if len(page.Events) == 0 {
			b.Fatal("empty page: the query matches nothing")
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/1000/float64(len(times)), "cpu-ms/op")
	slices.Sort(times)
	pct := func(p float64) float64 {
		return float64(times[int(float64(len(times)-1)*p)].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
