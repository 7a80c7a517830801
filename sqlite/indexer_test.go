package sqlite_test

import (
	"os"
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

// TestIndexFile checks that the index file is only ever used with the
// store it indexes: a missing one, another store's, one newer than a
// restored backup (by position or by deletions) are rebuilt; that an older
// store's postings in the events file are dropped; and that postings whose
// events are gone are never returned. Every stage's pages must equal those
// of an unindexed store holding the same events.
func TestIndexFile(t *testing.T) {
	ctx := t.Context()
	evs := smallEvents(300)
	open := func(t *testing.T, path string) *sqlite.DB {
		db, err := sqlite.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	fill := func(t *testing.T, db *sqlite.DB, evs []*trail.Event) {
		for i := 0; i < len(evs); i += 50 {
			if err := db.AppendBatches(ctx, []*trail.Batch{{Events: evs[i:min(i+50, len(evs))]}}); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.MergeAll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// reference returns an unindexed store holding evs, less the first
	// deleted events of acme's log.
	reference := func(t *testing.T, evs []*trail.Event, deleted int64) *sqlite.DB {
		ref, err := sqlite.OpenUnindexed(filepath.Join(t.TempDir(), "ref.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ref.Close() })
		fill(t, ref, evs)
		if _, _, err := ref.DeleteEvents(ctx, "acme", 0, deleted, 1000); err != nil {
			t.Fatal(err)
		}
		return ref
	}
	same := func(t *testing.T, stage string, db, ref *sqlite.DB) {
		t.Helper()
		for _, q := range mergeQueries() {
			if got, want := pageAll(t, db, q), pageAll(t, ref, q); len(want) == 0 || !slices.Equal(got, want) {
				t.Fatalf("%s: query %+v: got %d events, want %d", stage, q, len(got), len(want))
			}
			if got, want := exportAll(t, db, q), exportAll(t, ref, q); !slices.Equal(got, want) {
				t.Fatalf("%s: export %+v: got %d events, want %d", stage, q, len(got), len(want))
			}
		}
	}
	reopened := func(t *testing.T, path string, ref *sqlite.DB, wantReset bool) {
		t.Helper()
		db := open(t, path)
		defer db.Close()
		pos, err := db.IndexedPos(ctx)
		if err != nil || (pos == 0) != wantReset {
			t.Fatalf("index cursor on reopening: %d, %v; want it reset: %v", pos, err, wantReset)
		}
		same(t, "on reopening", db, ref)
		if err := db.MergeAll(ctx); err != nil {
			t.Fatal(err)
		}
		same(t, "indexed again", db, ref)
	}
	// stored returns the path of a closed store holding evs.
	stored := func(t *testing.T, path string, evs []*trail.Event) string {
		db := open(t, path)
		fill(t, db, evs)
		db.Close()
		return path
	}
	copyFile := func(t *testing.T, from, to string) {
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{to, to + "-wal", to + "-shm"} {
			os.Remove(p)
		}
		if err := os.WriteFile(to, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("Missing", func(t *testing.T) {
		path := stored(t, filepath.Join(t.TempDir(), "trail.db"), evs)
		os.Remove(path + ".index")
		reopened(t, path, reference(t, evs, 0), true)
	})
	t.Run("AnotherStores", func(t *testing.T) {
		dir := t.TempDir()
		a, b := filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db")
		for _, p := range []string{a, b} {
			stored(t, p, evs[:150])
		}
		copyFile(t, b+".index", a+".index")
		reopened(t, a, reference(t, evs[:150], 0), true)
	})
	t.Run("NewerThanBackup", func(t *testing.T) {
		dir := t.TempDir()
		path, bak := filepath.Join(dir, "trail.db"), filepath.Join(dir, "backup.db")
		db := open(t, path)
		fill(t, db, evs[:150])
		if err := sqlite.Backup(ctx, path, bak); err != nil {
			t.Fatal(err)
		}
		fill(t, db, evs[150:])
		db.Close()
		copyFile(t, bak, path)
		reopened(t, path, reference(t, evs[:150], 0), true)
	})
	t.Run("DeletionsAfterBackup", func(t *testing.T) {
		dir := t.TempDir()
		path, bak := filepath.Join(dir, "trail.db"), filepath.Join(dir, "backup.db")
		db := open(t, path)
		fill(t, db, evs)
		if err := sqlite.Backup(ctx, path, bak); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.DeleteEvents(ctx, "acme", 0, 40, 1000); err != nil {
			t.Fatal(err)
		}
		db.Close()
		copyFile(t, bak, path)
		reopened(t, path, reference(t, evs, 0), true)
	})
	t.Run("OlderVersion", func(t *testing.T) {
		// An index file of a release without the sort postings (actor
		// name, first target) is rebuilt, so that events indexed before
		// sort by them too.
		path := stored(t, filepath.Join(t.TempDir(), "trail.db"), evs)
		execRaw(t, path+".index", `PRAGMA user_version = 0`)
		reopened(t, path, reference(t, evs, 0), true)
	})
	t.Run("PostingsOutliveEvents", func(t *testing.T) {
		path := stored(t, filepath.Join(t.TempDir(), "trail.db"), evs)
		// As if the process ended between deleting events and their
		// postings: the events file alone loses them.
		execRaw(t, path, `DELETE FROM events WHERE tenant = 'acme' AND seq < 40`)
		reopened(t, path, reference(t, evs, 40), false)
	})
	t.Run("OlderRelease", func(t *testing.T) {
		path := stored(t, filepath.Join(t.TempDir(), "trail.db"), evs)
		os.Remove(path + ".index")
		execRaw(t, path, `CREATE TABLE segments (seg INTEGER PRIMARY KEY)`,
			`CREATE TABLE postings_0 (k TEXT, t INTEGER, id TEXT, tenant TEXT, pos INTEGER, PRIMARY KEY (k, t, id)) WITHOUT ROWID`,
			`DROP TABLE store_meta`, `DELETE FROM schema_migrations WHERE version = 22`,
			`INSERT INTO stream_cursors (name, pos) VALUES ('postings', 300)`)
		reopened(t, path, reference(t, evs, 0), true)
		var n int
		if err := rawQuery(t, path, `SELECT count(*) FROM sqlite_schema WHERE name IN ('segments', 'postings_0')
			OR name IN (SELECT name FROM stream_cursors WHERE name = 'postings')`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("the older release's postings tables left in the events file: %d, %v", n, err)
		}
	})
}

// exportAll returns the stored JSON of every event q's export lists.
func exportAll(t *testing.T, db *sqlite.DB, q trail.Query) []string {
	t.Helper()
	var out []string
	err := trail.ExportJSON(t.Context(), db, q, func(data []byte) error {
		out = append(out, string(data))
		return nil
	})
	if err != nil {
		t.Fatalf("export %+v: %v", q, err)
	}
	return out
}
