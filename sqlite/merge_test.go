package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/sqlite"
)

// mergeQueries are queries whose arms read postings, the time index or
// both, in every sort.
func mergeQueries() []trail.Query {
	acme, all := trail.Scope{Tenant: "acme"}, trail.Scope{All: true}
	return []trail.Query{
		{Scope: acme, Desc: true},
		{Scope: all},
		{Scope: acme, Actions: []string{"user.*", "billing.created"}, Desc: true},
		{Scope: all, Actions: []string{"document.*"}, Sort: trail.SortActor},
		{Scope: acme, ActorID: "user_00007"},
		{Scope: acme, Sort: trail.SortAction, Desc: true},
		{Scope: all, Sort: trail.SortActor},
		{Scope: acme, TargetType: "document", TargetID: "doc_000003", Sort: trail.SortAction},
		{Scope: all, TargetType: "user", Desc: true},
		{Scope: acme, Sort: trail.SortActorName},
		{Scope: all, Sort: trail.SortTargetType, Desc: true},
		{Scope: acme, Sort: trail.SortTargetID, Actions: []string{"document.*"}},
		{Scope: all, Sort: trail.SortTargetID, Desc: true},
	}
}

// pageAll reads every page of q with 7 events a page.
func pageAll(t *testing.T, db *sqlite.DB, q trail.Query) []string {
	t.Helper()
	q.Limit = 7
	var ids []string
	for {
		page, err := db.Events(t.Context(), &q)
		if err != nil {
			t.Fatalf("Events(%+v): %v", q, err)
		}
		for _, e := range page.Events {
			ids = append(ids, e.ID)
		}
		if page.Next == nil {
			return ids
		}
		q.After = page.Next
	}
}

// smallGen makes the benchmark's events over few actors and targets, so
// that filters match several events each.
func smallEvents(n int) []*trail.Event {
	g := newGen(7)
	evs := g.events(n)
	for i, e := range evs {
		e.Actor.ID = fmt.Sprintf("user_%05d", i%13)
		e.Targets[0].ID = fmt.Sprintf("doc_%06d", i%17)
	}
	return evs
}

// TestMergeKeepsResults checks that every query returns the same events
// from a store whose postings are split into many small segments, before
// and after merging them and after retention deleted events, as from a
// store with default segments.
func TestMergeKeepsResults(t *testing.T) {
	ctx := t.Context()
	small, err := sqlite.OpenSegmented(filepath.Join(t.TempDir(), "trail.db"), 3, 2, 7)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { small.Close() })
	ref := mustOpen(t, filepath.Join(t.TempDir(), "trail.db"))
	evs := smallEvents(400)
	for i := 0; i < len(evs); i += 20 {
		for _, db := range []*sqlite.DB{small, ref} {
			if err := db.AppendBatches(ctx, []*trail.Batch{{Events: evs[i : i+20]}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	compare := func(stage string) {
		t.Helper()
		for _, q := range mergeQueries() {
			got, want := pageAll(t, small, q), pageAll(t, ref, q)
			if !slices.Equal(got, want) {
				t.Fatalf("%s: query %+v: got %d events, want %d", stage, q, len(got), len(want))
			}
		}
	}
	compare("before merging")
	if err := small.MergeAll(ctx); err != nil {
		t.Fatal(err)
	}
	levels, err := small.SegmentLevels(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if levels[0] >= 3 || len(levels) < 4 {
		t.Fatalf("after merging, segments by level = %v; want fewer than 3 at level 0 and 4 levels or more", levels)
	}
	compare("after merging")
	for _, db := range []*sqlite.DB{small, ref} {
		if _, _, err := db.DeleteEvents(ctx, "acme", 0, 40, 1000); err != nil {
			t.Fatal(err)
		}
	}
	compare("after deleting events")
}

// TestQueriesDuringMerges pages through queries while the merger rewrites
// the segments underneath, checking each page sequence against the same
// query on a store that does not merge.
func TestQueriesDuringMerges(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	small, err := sqlite.OpenSegmented(filepath.Join(t.TempDir(), "trail.db"), 2, 2, 5)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { small.Close() })
	ref := mustOpen(t, filepath.Join(t.TempDir(), "trail.db"))
	evs := smallEvents(300)
	for _, db := range []*sqlite.DB{small, ref} {
		if err := db.AppendBatches(ctx, []*trail.Batch{{Events: evs}}); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- small.MergeAll(ctx) }() // races the background merger too
	for _, q := range mergeQueries() {
		if got, want := pageAll(t, small, q), pageAll(t, ref, q); !slices.Equal(got, want) {
			t.Fatalf("query %+v during merges: got %d events, want %d", q, len(got), len(want))
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestPageAcrossSegmentTies pages through events that all share one
// occurred_at, spread over many two-position segments: whether a segment
// can still change a page then depends on the id alone.
func TestPageAcrossSegmentTies(t *testing.T) {
	db, err := sqlite.OpenSegmented(filepath.Join(t.TempDir(), "trail.db"), 1, 64, 100)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	evs := smallEvents(40)
	at := evs[0].OccurredAt
	for i, e := range evs {
		e.OccurredAt, e.Actor.ID = at, "user_1"
		if err := db.AppendBatches(t.Context(), []*trail.Batch{{Events: evs[i : i+1]}}); err != nil {
			t.Fatal(err)
		}
	}
	var want []string
	for _, e := range evs {
		want = append(want, e.ID)
	}
	slices.Sort(want)
	for _, q := range []trail.Query{{Scope: trail.Scope{All: true}, ActorID: "user_1"}, {Scope: trail.Scope{All: true}, ActorID: "user_1", Desc: true}} {
		got := pageAll(t, db, q)
		if q.Desc {
			slices.Reverse(got)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("desc=%v: got %v\nwant %v", q.Desc, got, want)
		}
	}
}
