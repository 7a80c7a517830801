package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/pgtest"
	"github.com/trailhq/trail/internal/testenv"
	"github.com/trailhq/trail/postgres"
)

// TestOutage stops the database under an open store: every call fails fast
// with EUNAVAILABLE and stores nothing, and once the database is back the
// same store works again without being reopened.
func TestOutage(t *testing.T) {
	srv := pgtest.MustServer(t, pgtest.Options{})
	db := MustOpen(t, srv.NewDB(t))
	ctx := context.Background()
	before := event("acme", time.Now().UTC())
	if err := db.AppendBatches(ctx, []*trail.Batch{{Events: []*trail.Event{before}}}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}

	down := event("acme", time.Now().UTC())
	start := time.Now()
	err := db.AppendBatches(ctx, []*trail.Batch{{Events: []*trail.Event{down}}})
	wantUnavailable(t, "AppendBatches", err)
	if down.Pos != 0 || down.Seq != 0 {
		t.Errorf("a failed append left Pos %d, Seq %d on the event", down.Pos, down.Seq)
	}
	_, err = db.Events(ctx, &trail.Query{Scope: trail.Scope{Tenant: "acme"}})
	wantUnavailable(t, "Events", err)
	wantUnavailable(t, "Ping", db.Ping(ctx))
	_, err = db.AcquireLease(ctx, "retention", "node-a", time.Second)
	wantUnavailable(t, "AcquireLease", err)
	_, err = db.Key(ctx, "key-1") // every request reads its key, through database/sql
	wantUnavailable(t, "Key", err)
	if took := time.Since(start); took > postgres.ConnectTimeout {
		t.Errorf("five calls against a stopped database took %v, want under %v", took, postgres.ConnectTimeout)
	}

	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	after := event("acme", time.Now().UTC())
	if !testenv.Poll(10*time.Second, func() bool {
		err = db.AppendBatches(ctx, []*trail.Batch{{Events: []*trail.Event{after}}})
		return err == nil
	}) {
		t.Fatalf("10s after the database came back, append still fails: %v", err)
	}
	page, err := db.Events(ctx, &trail.Query{Scope: trail.Scope{Tenant: "acme"}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range page.Events {
		ids = append(ids, e.ID)
	}
	if len(ids) != 2 || ids[0] != before.ID && ids[1] != before.ID {
		t.Errorf("after the outage: events %v, want %s and %s only", ids, before.ID, after.ID)
	}
	if after.Pos != before.Pos+1 {
		t.Errorf("Pos after the outage = %d, want %d: the failed append used a number", after.Pos, before.Pos+1)
	}
}

func wantUnavailable(tb testing.TB, call string, err error) {
	tb.Helper()
	if got := trail.ErrorCode(err); got != trail.EUNAVAILABLE {
		tb.Errorf("%s while the database is down: code %q (%v), want %q", call, got, err, trail.EUNAVAILABLE)
	}
}
