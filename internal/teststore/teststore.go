// Package teststore opens fresh stores of every kind for tests, so that a
// package's tests run against SQLite (and PostgreSQL) alike.
package teststore

import (
	"path/filepath"
	"testing"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/sqlite"
)

// ForEach runs fn as one subtest per store kind ("sqlite", ...), each with
// a fresh, empty store that is closed when the subtest ends.
func ForEach(t *testing.T, fn func(t *testing.T, s trail.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		fn(t, SQLite(t))
	})
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
