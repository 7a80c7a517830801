package sqlite_test

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/testenv"
	"github.com/trailhq/trail/sqlite"
)

// TestTailMatchesPostings checks that every query, paged with a cursor in
// every sort, returns the same events from the unindexed tail (a store
// whose indexer never runs) as from postings (a store whose indexer has
// caught up and merged), before and after retention deleted events.
func TestTailMatchesPostings(t *testing.T) {
	ctx := t.Context()
	tail, err := sqlite.OpenUnindexed(filepath.Join(t.TempDir(), "trail.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tail.Close() })
	indexed, err := sqlite.OpenSegmented(filepath.Join(t.TempDir(), "trail.db"), 3, 2, 7)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { indexed.Close() })
	evs := smallEvents(300)
	for i := 0; i < len(evs); i += 30 {
		for _, db := range []*sqlite.DB{tail, indexed} {
			if err := db.AppendBatches(ctx, []*trail.Batch{{Events: evs[i : i+30]}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := indexed.MergeAll(ctx); err != nil {
		t.Fatal(err)
	}
	compare := func(stage string) {
		t.Helper()
		for _, q := range mergeQueries() {
			got, want := pageAll(t, tail, q), pageAll(t, indexed, q)
			if len(want) == 0 || !slices.Equal(got, want) {
				t.Fatalf("%s: query %+v: got %d events from the tail, want %d", stage, q, len(got), len(want))
			}
		}
	}
	compare("before deleting")
	if pos, err := tail.IndexedPos(ctx); err != nil || pos != 0 {
		t.Fatalf("unindexed store: postings cursor %d, %v; want 0", pos, err)
	}
	for _, db := range []*sqlite.DB{tail, indexed} {
		if _, _, err := db.DeleteEvents(ctx, "acme", 0, 40, 1000); err != nil {
			t.Fatal(err)
		}
	}
	compare("after deleting events")
}

// TestIndexerFollowsCommits checks that the background indexer writes the
// postings of every committed event, moving its cursor to the last one.
func TestIndexerFollowsCommits(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t, filepath.Join(t.TempDir(), "trail.db"))
	evs := smallEvents(2500)
	for i := 0; i < len(evs); i += 500 {
		if err := db.AppendBatches(ctx, []*trail.Batch{{Events: evs[i : i+500]}}); err != nil {
			t.Fatal(err)
		}
	}
	last := evs[len(evs)-1].Pos
	testenv.Eventually(t, 10*time.Second, "the indexer to reach the last event", func() bool {
		pos, err := db.IndexedPos(ctx)
		return err == nil && pos == last
	})
}

// TestPostingsCursorMigration checks that a store written before postings
// moved off the commit path starts its indexer after its last event: those
// events got their postings in their own commits.
func TestPostingsCursorMigration(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "trail.db")
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	evs := smallEvents(10)
	if err := db.AppendBatches(ctx, []*trail.Batch{{Events: evs}}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	execRaw(t, path, `DELETE FROM stream_cursors WHERE name = 'postings'`, `DELETE FROM schema_migrations WHERE version = 13`)
	db, err = sqlite.OpenUnindexed(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got, err := db.IndexedPos(ctx); err != nil || got != evs[len(evs)-1].Pos {
		t.Fatalf("postings cursor after the migration: %d, %v; want %d", got, err, evs[len(evs)-1].Pos)
	}
}
