package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/postgres"
)

// Skewed shapes, as a real audit log leaves them and as the issue measured
// them: one hot target type (every event names a document, a few a rare
// type), many actors, few actions, and many tenants of very different
// sizes (tenant t has about twice the events of tenant t+1).
const (
	skewTenants = 40
	skewActors  = 20_000
	skewActions = 10
	skewDocs    = 500_000
)

// manyTenants is the number of tenants of the many-tenants shape
// (manyTenant).
const manyTenants = 300

// skewTenant picks the tenant of an event of the skewed shape.
func skewTenant(r *rand.Rand) string {
	t := 0
	for t < skewTenants-1 && r.IntN(2) == 0 {
		t++
	}
	return fmt.Sprintf("org%02d", t)
}

// manyTenant picks the tenant of an event of the many-tenants shape, the
// one a platform key's pages see on a service of many customers: half the
// events go to a few big tenants (skewTenant's), the other half spread
// evenly over manyTenants tenants, many more than a page merges
// (maxBranches in query.go).
func manyTenant(r *rand.Rand) string {
	if r.IntN(2) == 0 {
		return skewTenant(r)
	}
	return fmt.Sprintf("org%02d", r.IntN(manyTenants))
}

// skewEvents returns n events of the skewed shapes, with tenants picked by
// tenant, occurring every second up to now, in batches of 100 as the HTTP
// path makes them.
func skewEvents(n int, seed uint64, now time.Time, tenant func(*rand.Rand) string) []*trail.Batch {
	r := rand.New(rand.NewPCG(seed, 11))
	var out []*trail.Batch
	b := &trail.Batch{}
	for i := range n {
		at := now.Add(-time.Duration(n-i) * time.Second)
		e := &trail.Event{
			ID: trail.NewID(at), Tenant: tenant(r),
			Action:     fmt.Sprintf("doc.action%d", r.IntN(skewActions)),
			OccurredAt: at, ReceivedAt: now, Version: 1,
			Actor:   trail.Actor{Type: "user", ID: fmt.Sprintf("user_%05d", r.IntN(skewActors)), Name: "Some User"},
			Targets: []trail.Target{{Type: "document", ID: fmt.Sprintf("doc_%06d", r.IntN(skewDocs))}},
			Context: trail.Context{IP: fmt.Sprintf("10.0.%d.%d", r.IntN(256), r.IntN(256))},
		}
		if i%50 == 0 { // an active actor and a busy document
			e.Actor.ID, e.Targets[0].ID = "user_00042", "doc_000042"
		}
		if i%500 == 0 {
			e.Targets = append(e.Targets, trail.Target{Type: "invoice", ID: fmt.Sprintf("inv_%d", i)})
		}
		if i%1000 == 7 { // a rare action
			e.Action = "doc.purge"
		}
		if i%97 == 0 {
			e.Tenant = trail.SystemTenant
		}
		b.Events = append(b.Events, e)
		if len(b.Events) == 100 || i == n-1 {
			out = append(out, b)
			b = &trail.Batch{}
		}
	}
	return out
}

// fillSkewed appends n skewed events, with tenants picked by tenant,
// through the store's append path, five batches of 100 per call, as the
// Writer groups concurrent HTTP requests.
func fillSkewed(tb testing.TB, db *postgres.DB, n int, tenant func(*rand.Rand) string) {
	tb.Helper()
	batches := skewEvents(n, 1, time.Now(), tenant)
	for i := 0; i < len(batches); i += 5 {
		if err := db.AppendBatches(context.Background(), batches[i:min(i+5, len(batches))]); err != nil {
			tb.Fatal(err)
		}
	}
}
