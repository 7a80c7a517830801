package postgres_test

import (
	"context"
	"testing"

	"github.com/trailhq/trail/internal/pgtest"
	"github.com/trailhq/trail/postgres"
	"github.com/trailhq/trail/storetest"
)

// Migration 0007 moves the ledger's and the alert evaluator's cursors from
// their own tables into stream_cursors, keeping their positions.
func TestMigrateCursorsCarriedOver(t *testing.T) {
	dsn := pgtest.NewDB(t)
	ctx := context.Background()
	db, err := postgres.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateForwarder(ctx, storetest.CursorForwarder(), 5); err != nil {
		t.Fatal(err)
	}
	// Put the database back as it was before 0007, with both cursors moved on.
	for _, q := range []string{
		`CREATE TABLE ledger_cursor (one boolean PRIMARY KEY DEFAULT true CHECK (one), pos bigint NOT NULL)`,
		`INSERT INTO ledger_cursor (one, pos) VALUES (true, 42)`,
		`CREATE TABLE alert_cursor (one int PRIMARY KEY CHECK (one = 1), pos bigint NOT NULL)`,
		`INSERT INTO alert_cursor (one, pos) VALUES (1, 17)`,
		`ALTER TABLE forwarders ADD COLUMN cursor_pos bigint NOT NULL DEFAULT 0`,
		`UPDATE forwarders SET cursor_pos = 99`,
		`DROP TABLE stream_cursors`,
		`DELETE FROM schema_migrations WHERE version = 7`,
	} {
		if _, err := db.Pool().Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	db = MustOpen(t, dsn)
	storetest.CheckCursorsCarriedOver(t, db)
}
