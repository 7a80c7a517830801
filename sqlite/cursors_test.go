package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/trailhq/trail"

	"github.com/trailhq/trail/sqlite"
	"github.com/trailhq/trail/storetest"
)

// Migration 0007 moves the ledger's and the alert evaluator's cursors from
// their own tables into stream_cursors, keeping their positions.
func TestMigrateCursorsCarriedOver(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trail.db")
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateForwarder(context.Background(), storetest.CursorForwarder(), 5); err != nil {
		t.Fatal(err)
	}
	db.Close()
	// Put the file back as it was before 0007, with both cursors moved on.
	execRaw(t, path,
		`CREATE TABLE ledger_cursor (one INTEGER PRIMARY KEY CHECK (one = 1), pos INTEGER NOT NULL)`,
		`INSERT INTO ledger_cursor (one, pos) VALUES (1, 42)`,
		`CREATE TABLE alert_cursor (one INTEGER PRIMARY KEY CHECK (one = 1), pos INTEGER NOT NULL)`,
		`INSERT INTO alert_cursor (one, pos) VALUES (1, 17)`,
		`ALTER TABLE forwarders ADD COLUMN cursor_pos INTEGER NOT NULL DEFAULT 0`,
		`UPDATE forwarders SET cursor_pos = 99`,
		`DROP TABLE stream_cursors`,
		`DELETE FROM schema_migrations WHERE version = 7`,
	)

	db = mustOpen(t, path)
	storetest.CheckCursorsCarriedOver(t, db)
}

// A reader connection opened after the database file was deleted fails as
// unavailable instead of creating an empty database there (whose missing
// tables would read as internal errors). The followers of the stream make
// more reads run at once, so the read pool opens connections more often.
func TestReadAfterFileDeleted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trail.db")
	db := mustOpen(t, path)
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(path + suffix)
	}
	_, err := db.Key(context.Background(), "key_1")
	if trail.ErrorCode(err) != trail.EUNAVAILABLE {
		t.Errorf("read after the file was deleted: %v; want %s", err, trail.EUNAVAILABLE)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a database file is back at %s after a read (%v)", path, err)
	}
}

// execRaw runs statements on the closed store at path through a plain
// connection, to put its file back as an older version left it.
func execRaw(tb testing.TB, path string, stmts ...string) {
	tb.Helper()
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		tb.Fatal(err)
	}
	defer raw.Close()
	for _, q := range stmts {
		if _, err := raw.Exec(q); err != nil {
			tb.Fatalf("%s: %v", q, err)
		}
	}
}

// rawQuery runs one query on the file at path outside the store.
func rawQuery(tb testing.TB, path, query string) *sql.Row {
	tb.Helper()
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { raw.Close() })
	return raw.QueryRow(query)
}
