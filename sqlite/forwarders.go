package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/tables"
)

var _ trail.ForwarderStore = (*DB)(nil)

// SaveForwarderStatus records forwarder id's progress; the cursor never
// moves back.
func (db *DB) SaveForwarderStatus(ctx context.Context, id string, st *trail.ForwarderStatus) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save forwarder status: %w", err)
	}
	defer rollback(tx)
	res, err := tx.ExecContext(ctx, `UPDATE forwarders SET pending = ?,
		state = ?, attempts = ?, last_success_at = ?, last_error = ?, last_error_at = ? WHERE id = ?`,
		st.Pending, st.State, st.Attempts, micros(st.LastSuccessAt), st.LastError,
		micros(st.LastErrorAt), id)
	if err := forwarderRow(res, err, "save forwarder status", id); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE stream_cursors SET pos = max(pos, ?) WHERE name = ?",
		st.Cursor, trail.CursorForwarder(id)); err != nil {
		return fmt.Errorf("save forwarder cursor: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save forwarder status: %w", err)
	}
	return nil
}

// AddDeadLetters adds events to forwarder id's dead-letter list, replacing
// earlier entries for the same events.
func (db *DB) AddDeadLetters(ctx context.Context, id string, dls []*trail.DeadLetter) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("add dead letters: %w", err)
	}
	defer rollback(tx)
	for _, d := range dls {
		_, err := tx.ExecContext(ctx, `INSERT INTO forwarder_dead_letters (forwarder_id, pos, event_id, tenant,
			action, attempts, error, failed_at, replay) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)
			ON CONFLICT (forwarder_id, pos) DO UPDATE SET attempts = forwarder_dead_letters.attempts + excluded.attempts,
			error = excluded.error, failed_at = excluded.failed_at, replay = 0`,
			id, d.Pos, d.EventID, d.Tenant, d.Action, d.Attempts, d.Error, d.FailedAt.UnixMicro())
		if err != nil {
			return fmt.Errorf("add dead letters: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("add dead letters: %w", err)
	}
	return nil
}

// StreamHead returns the Pos of the newest stored event, 0 when none.
func (db *DB) StreamHead(ctx context.Context) (int64, error) {
	var next int64
	if err := db.r.QueryRowContext(ctx, "SELECT next_pos FROM stream_pos").Scan(&next); err != nil {
		return 0, fmt.Errorf("stream head: %w", err)
	}
	return next - 1, nil
}

// forwarderContext binds a forwarder's sealed settings to its row.
func forwarderContext(id string) string { return tables.ForwarderContext(id) }

// forwarderRow turns the result of a statement that must touch exactly one
// forwarder into ENOTFOUND when it touched none.
func forwarderRow(res sql.Result, err error, what, id string) error {
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	return tables.ForwarderRow(n, err, what, id)
}
