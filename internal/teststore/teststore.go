// Package teststore opens fresh stores of every kind for tests, so that a
// package's tests run against SQLite (and PostgreSQL) alike.
package teststore

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/pgtest"
	"github.com/trailhq/trail/internal/tables"
	"github.com/trailhq/trail/postgres"
	"github.com/trailhq/trail/sqlite"
)

// ForEach runs fn as one subtest per store kind ("sqlite", ...), each with
// a fresh, empty store that is closed when the subtest ends.
func ForEach(t *testing.T, fn func(t *testing.T, s trail.Store)) {
	t.Helper()
	ForEachKind(t, func(t *testing.T, open func(testing.TB) trail.Store) { fn(t, open(t)) })
}

// ForEachKind runs fn as one subtest per store kind ("sqlite", ...), with
// a function that opens a fresh, empty store of that kind, closed when its
// test ends: for a test that needs several stores of one kind.
func ForEachKind(t *testing.T, fn func(t *testing.T, open func(testing.TB) trail.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		fn(t, func(tb testing.TB) trail.Store { return SQLite(tb) })
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, func(tb testing.TB) trail.Store { return Postgres(tb) })
	})
}

// Postgres opens a fresh PostgreSQL store on a new database of the test
// binary's throwaway server (see internal/pgtest) and closes it when the
// test ends.
func Postgres(tb testing.TB) *postgres.DB {
	tb.Helper()
	db, err := postgres.Open(pgtest.NewDB(tb))
	if err != nil {
		tb.Fatalf("open postgres store: %v", err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("close postgres store: %v", err)
		}
	})
	return db
}

// SQLite opens a fresh SQLite store in a temporary directory and closes it
// when the test ends.
func SQLite(tb testing.TB) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(filepath.Join(tb.TempDir(), "trail.db"))
	if err != nil {
		tb.Fatalf("open sqlite store: %v", err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("close sqlite store: %v", err)
		}
	})
	return db
}

// Recorded returns the events of tenant's own log (not the system events
// every tenant sees) with action, oldest first: what a test reads back of
// the events Trail records about itself.
func Recorded(tb testing.TB, s trail.EventStore, tenant, action string) []*trail.Event {
	tb.Helper()
	page, err := s.Events(tb.Context(), &trail.Query{Scope: trail.Scope{Tenant: tenant},
		Actions: []string{action}, Limit: trail.MaxLimit})
	if err != nil {
		tb.Fatal(err)
	}
	var out []*trail.Event
	for _, ev := range page.Events {
		if ev.Tenant == tenant {
			out = append(out, ev)
		}
	}
	return out
}

// Exec runs q (with ? placeholders) on s's database directly, behind the
// store's back: for tests that set up what an older release left, or
// tamper with what the store wrote.
func Exec(tb testing.TB, s trail.Store, q string, args ...any) {
	tb.Helper()
	var err error
	switch db := s.(type) {
	case *sqlite.DB:
		var raw *sql.DB
		if raw, err = sql.Open("sqlite3", db.Path()); err == nil {
			_, err = raw.ExecContext(tb.Context(), q, args...)
			raw.Close()
		}
	case *postgres.DB:
		_, err = db.Pool().Exec(tb.Context(), tables.Dollar(q), args...)
	default:
		tb.Fatalf("teststore.Exec: %T is no store of this package", s)
	}
	if err != nil {
		tb.Fatalf("exec %q: %v", q, err)
	}
}
