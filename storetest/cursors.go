package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/trailhq/trail"
)

// The stores' migration tests of 0007 (the stream's cursors move into
// stream_cursors) share the data they put back and what they check; each
// store rewinds its own schema with its own SQL.

// CursorForwarder is the forwarder whose cursor migration 0007 must carry
// over: create it, rewind the schema to before 0007 with its cursor_pos at
// 99, the ledger's cursor at 42 and the alerts' at 17, and reopen.
func CursorForwarder() *trail.Forwarder {
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	return &trail.Forwarder{ID: trail.NewID(at), Name: "siem", Kind: trail.ForwarderWebhook,
		URI: "https://hooks.example.com/siem", Batch: trail.BatchConfig{Size: 1},
		ManagedBy: trail.ManagedByAPI, CreatedAt: at, UpdatedAt: at}
}

// CheckCursorsCarriedOver checks the positions CursorForwarder's test put
// back before migration 0007, read from the migrated store s.
func CheckCursorsCarriedOver(t *testing.T, s trail.Store) {
	t.Helper()
	ctx := context.Background()
	if c, err := s.LedgerCursor(ctx); err != nil || c != 42 {
		t.Errorf("ledger cursor after migration = %d, %v; want 42", c, err)
	}
	if c, _, err := s.AlertState(ctx); err != nil || c != 17 {
		t.Errorf("alert cursor after migration = %d, %v; want 17", c, err)
	}
	f, err := s.Forwarder(ctx, "", "siem")
	if err != nil || f.Status.Cursor != 99 {
		t.Errorf("forwarder after migration = %+v, %v; want cursor 99", f, err)
	}
}
