package tables

import (
	"context"
	"database/sql"
	"fmt"
)

// The stream's followers (the ledger, alerts, each forwarder) keep their
// positions in stream_cursors, one row per follower (trail.Cursor*). The
// rounds that move a cursor with the work it covers stay in the stores,
// inside their own transactions; reading one and starting one is the same
// everywhere.

// Cursor returns the stream position of the follower name.
func (t *Tables) Cursor(ctx context.Context, name string) (int64, error) {
	var pos int64
	err := t.r.QueryRowContext(ctx, t.d.Rebind("SELECT pos FROM stream_cursors WHERE name = ?"), name).Scan(&pos)
	if err != nil {
		return 0, fmt.Errorf("read cursor %s: %w", name, t.d.Wrap(err))
	}
	return pos, nil
}

// StartCursor moves the follower name's never-set cursor (negative) to the
// stream's head and returns where it stands.
func (t *Tables) StartCursor(ctx context.Context, name string) (int64, error) {
	var pos int64
	err := t.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, t.d.Rebind(`UPDATE stream_cursors SET pos = (SELECT next_pos - 1 FROM stream_pos)
			WHERE name = ? AND pos < 0`), name)
		if err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, t.d.Rebind("SELECT pos FROM stream_cursors WHERE name = ?"), name).Scan(&pos)
	})
	if err != nil {
		return 0, fmt.Errorf("start cursor %s: %w", name, t.d.Wrap(err))
	}
	return pos, nil
}
