package postgres_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/pgtest"
	"github.com/trailhq/trail/postgres"
)

func event(tenant string, at time.Time) *trail.Event {
	return &trail.Event{
		ID: trail.NewID(at), Tenant: tenant, Action: "user.login", OccurredAt: at, ReceivedAt: at,
		Actor: trail.Actor{Type: trail.ActorUser, ID: "u1"}, Targets: []trail.Target{}, Version: 1,
	}
}

func TestPartitions(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDB(t)
	db := MustOpen(t, dsn)

	t.Run("AheadOfNeed", func(t *testing.T) {
		months, err := db.Partitions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC()
		this := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
		for i := range 4 {
			if m := this.AddDate(0, i, 0); !slices.ContainsFunc(months, m.Equal) {
				t.Errorf("no partition for %s at open; have %v", m.Format("2006-01"), months)
			}
		}
	})
	t.Run("Backfill", func(t *testing.T) {
		old := time.Date(2019, 7, 14, 9, 30, 0, 0, time.UTC)
		e := event("acme", old)
		if err := db.AppendBatches(ctx, []*trail.Batch{{Events: []*trail.Event{e}}}); err != nil {
			t.Fatal(err)
		}
		months, err := db.Partitions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(months, time.Date(2019, 7, 1, 0, 0, 0, 0, time.UTC).Equal) {
			t.Fatalf("appending an event of July 2019 made no partition for it; have %v", months)
		}
		got, err := db.Event(ctx, trail.Scope{Tenant: "acme"}, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.OccurredAt.Equal(old) {
			t.Errorf("occurred_at = %v, want %v", got.OccurredAt, old)
		}
	})
	t.Run("DroppedElsewhere", func(t *testing.T) {
		// Another node (retention) drops a month this node has cached: the
		// next append into that month creates it again.
		at := time.Date(2020, 2, 10, 0, 0, 0, 0, time.UTC)
		if err := db.AppendBatches(ctx, []*trail.Batch{{Events: []*trail.Event{event("acme", at)}}}); err != nil {
			t.Fatal(err)
		}
		other := MustOpen(t, dsn)
		for _, table := range []string{"events", "event_targets"} {
			name := postgres.PartitionName(table, at)
			if _, err := other.Pool().Exec(ctx, "DROP TABLE "+name); err != nil {
				t.Fatal(err)
			}
		}
		e := event("acme", at.Add(time.Hour))
		if err := db.AppendBatches(ctx, []*trail.Batch{{Events: []*trail.Event{e}}}); err != nil {
			t.Fatalf("append into a month dropped by another node: %v", err)
		}
		if _, err := db.Event(ctx, trail.Scope{All: true}, e.ID); err != nil {
			t.Fatal(err)
		}
	})
}

// TestMigrateTogether opens several stores on one new database at once, as
// nodes that start together do: the advisory lock lets each migration run
// once, and every node opens.
func TestMigrateTogether(t *testing.T) {
	dsn := pgtest.NewDB(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			db, err := postgres.Open(dsn)
			if err == nil {
				db.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("node %d: open: %v", i, err)
		}
	}
	db := MustOpen(t, dsn)
	var dupes int
	err := db.Pool().QueryRow(context.Background(),
		"SELECT count(*) - count(DISTINCT version) FROM schema_migrations").Scan(&dupes)
	if err != nil {
		t.Fatal(err)
	}
	if dupes != 0 {
		t.Errorf("%d migrations recorded twice", dupes)
	}
}
