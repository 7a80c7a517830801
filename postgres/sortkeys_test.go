package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/pgtest"
	"github.com/trailhq/trail/postgres"
)

// TestSortKeysMigration checks that migration 24 copies the first target
// of the events stored before it: a store without its columns and indexes,
// opened by this release, sorts those events by their first target's type
// and id.
func TestSortKeysMigration(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDB(t)
	old, err := postgres.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	var evs []*trail.Event
	for i := range 12 {
		at := now.Add(-time.Duration(i) * time.Minute)
		e := &trail.Event{ID: trail.NewID(at), Tenant: "acme", Action: "doc.read", OccurredAt: at, ReceivedAt: at, Version: 1,
			Actor: trail.Actor{Type: "user", ID: "u1"}, Targets: []trail.Target{}}
		if i%3 != 0 {
			e.Targets = append(e.Targets, trail.Target{Type: fmt.Sprint("t", i%4), ID: fmt.Sprint("id", 9-i%5)},
				trail.Target{Type: "aaa", ID: "000"})
		}
		evs = append(evs, e)
	}
	if err := old.AppendBatches(ctx, []*trail.Batch{{Events: evs}}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"DROP INDEX events_by_actor_name_all",
		"ALTER TABLE events DROP COLUMN first_target_type, DROP COLUMN first_target_id",
		"DELETE FROM schema_migrations WHERE version = 24"} {
		if _, err := old.Pool().Exec(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	db := MustOpen(t, dsn)
	for _, sort := range []string{trail.SortTargetType, trail.SortTargetID} {
		q := trail.Query{Scope: trail.Scope{Tenant: "acme"}, Sort: sort, Limit: trail.MaxLimit}
		page, err := db.Events(ctx, &q)
		if err != nil {
			t.Fatal(err)
		}
		want := slices.Clone(evs)
		slices.SortFunc(want, q.Compare)
		if got := idsOf(page.Events); !slices.Equal(got, idsOf(want)) {
			t.Errorf("sort=%s after the migration:\ngot  %v\nwant %v", sort, got, idsOf(want))
		}
	}
}
