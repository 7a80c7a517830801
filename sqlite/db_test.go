package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/testenv"
	"github.com/trailhq/trail/internal/teststore"
	"github.com/trailhq/trail/sqlite"
)

// mustOpen opens the store at path and closes it when the test ends.
func mustOpen(tb testing.TB, path string) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// newEvent makes a valid event of tenant.
func newEvent(tenant string, i int) *trail.Event {
	now := time.Now().UTC().Truncate(time.Microsecond)
	return &trail.Event{
		ID: trail.NewID(now), Tenant: tenant, Action: "user.login", OccurredAt: now, ReceivedAt: now,
		Actor: trail.Actor{Type: trail.ActorUser, ID: fmt.Sprint("u", i)}, Targets: []trail.Target{}, Version: 1,
	}
}

func appendOne(tb testing.TB, db *sqlite.DB, e *trail.Event) {
	tb.Helper()
	if err := db.AppendBatches(context.Background(), []*trail.Batch{{Events: []*trail.Event{e}}}); err != nil {
		tb.Fatal(err)
	}
}

func TestOpen(t *testing.T) {
	t.Run("CreatesParentDir", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "data", "nested", "trail.db")
		mustOpen(t, path)
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("database file not created: %v", err)
		}
	})
	t.Run("MigrationsOnceOnReopen", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "trail.db")
		for range 3 {
			db, err := sqlite.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			db.Close()
		}
		files, err := filepath.Glob("migrations/*.sql")
		if err != nil || len(files) == 0 {
			t.Fatalf("no migration files: %v", err)
		}
		raw, err := sql.Open("sqlite3", path)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		var n int
		if err := raw.QueryRow("SELECT count(*) FROM schema_migrations").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != len(files) {
			t.Fatalf("schema_migrations has %d rows, want one per file (%d)", n, len(files))
		}
	})
	t.Run("ErrNotADatabase", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "trail.db")
		os.WriteFile(path, []byte("this is not an sqlite file, it is just some text that is long enough"), 0o600)
		if db, err := sqlite.Open(path); err == nil {
			db.Close()
			t.Fatal("Open of a text file succeeded")
		}
	})
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trail.db")
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	first := newEvent("a", 1)
	appendOne(t, db, first)
	db.Close()

	db = mustOpen(t, path)
	got, err := db.Event(t.Context(), trail.Scope{All: true}, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, first) {
		t.Fatalf("after reopen:\ngot  %+v\nwant %+v", got, first)
	}
	second := newEvent("a", 2)
	appendOne(t, db, second)
	if second.Pos != 2 || second.Seq != 1 {
		t.Fatalf("after reopen: Pos, Seq = %d, %d, want 2, 1", second.Pos, second.Seq)
	}
}

// TestTwoHandles writes through two handles on one file at once, as the
// trail CLI does next to a running server.
func TestTwoHandles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trail.db")
	dbs := []*sqlite.DB{mustOpen(t, path), mustOpen(t, path)}
	const each = 40
	var wg sync.WaitGroup
	for i, db := range dbs {
		wg.Go(func() {
			for j := range each {
				e := newEvent(fmt.Sprint("t", j%2), i)
				if err := db.AppendBatches(context.Background(), []*trail.Batch{{Events: []*trail.Event{e}}}); err != nil {
					t.Errorf("handle %d: %v", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	evs, err := dbs[0].StreamEvents(t.Context(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2*each {
		t.Fatalf("stream has %d events, want %d", len(evs), 2*each)
	}
	next := map[string]int64{}
	for i, e := range evs {
		if e.Pos != int64(i+1) || e.Seq != next[e.Tenant] {
			t.Fatalf("event %d: Pos, Seq = %d, %d; want %d, %d", i, e.Pos, e.Seq, i+1, next[e.Tenant])
		}
		next[e.Tenant]++
	}
}

func TestLeaseClock(t *testing.T) {
	db := teststore.SQLite(t)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	acquire := func(holder string) bool {
		ok, err := db.AcquireLease(t.Context(), "ledger", holder, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !acquire("n1") || acquire("n2") {
		t.Fatal("lease not exclusive")
	}
	now = now.Add(59 * time.Second)
	if acquire("n2") {
		t.Fatal("lease taken before it expired")
	}
	now = now.Add(time.Second)
	if !acquire("n2") {
		t.Fatal("expired lease not taken")
	}
	if acquire("n1") {
		t.Fatal("old holder took the lease back")
	}
}

// TestCheckpointer checks that committed events reach the database file
// (not only the WAL) without a commit crossing SQLite's own checkpoint
// threshold, which is far above what this test writes.
func TestCheckpointer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trail.db")
	db := mustOpen(t, path)
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		var evs []*trail.Event
		for j := range 100 {
			evs = append(evs, newEvent("a", i*100+j))
		}
		if err := db.AppendBatches(t.Context(), []*trail.Batch{{Events: evs}}); err != nil {
			t.Fatal(err)
		}
	}
	var size int64
	if !testenv.Poll(10*time.Second, func() bool {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		size = fi.Size()
		return size > before.Size()+500_000
	}) {
		t.Fatalf("database file is %d bytes after 2,000 events (%d before): nothing was checkpointed", size, before.Size())
	}
}
