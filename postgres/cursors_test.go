package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/trailhq/trail"

	"github.com/trailhq/trail/internal/pgtest"
	"github.com/trailhq/trail/postgres"
)

// oldForwarder is a forwarder whose cursor 0007 must carry over.
func oldForwarder() *trail.Forwarder {
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	return &trail.Forwarder{ID: trail.NewID(at), Name: "siem", Kind: trail.ForwarderWebhook,
		URI: "https://hooks.example.com/siem", Batch: trail.BatchConfig{Size: 1},
		ManagedBy: trail.ManagedByAPI, CreatedAt: at, UpdatedAt: at}
}

// Migration 0007 moves the ledger's and the alert evaluator's cursors from
// their own tables into stream_cursors, keeping their positions.
func TestMigrateCursorsCarriedOver(t *testing.T) {
	dsn := pgtest.NewDB(t)
	ctx := context.Background()
	db, err := postgres.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateForwarder(ctx, oldForwarder(), 5); err != nil {
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
	if c, err := db.LedgerCursor(ctx); err != nil || c != 42 {
		t.Errorf("ledger cursor after migration = %d, %v; want 42", c, err)
	}
	if c, _, err := db.AlertState(ctx); err != nil || c != 17 {
		t.Errorf("alert cursor after migration = %d, %v; want 17", c, err)
	}
	f, err := db.Forwarder(ctx, "", "siem")
	if err != nil || f.Status.Cursor != 99 {
		t.Errorf("forwarder after migration = %+v, %v; want cursor 99", f, err)
	}
}
