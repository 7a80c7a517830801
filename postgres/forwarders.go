package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/tables"
)

var _ trail.ForwarderStore = (*DB)(nil)

// SaveForwarderStatus records forwarder id's progress; the cursor never
// moves back.
func (db *DB) SaveForwarderStatus(ctx context.Context, id string, st *trail.ForwarderStatus) error {
	tag, err := db.pool.Exec(ctx, `WITH c AS (UPDATE stream_cursors SET pos = greatest(pos, $1)
		WHERE name = 'forwarder:' || $8::text)
		UPDATE forwarders SET pending = $2, state = $3, attempts = $4, last_success_at = $5,
		last_error = $6, last_error_at = $7 WHERE id = $8`,
		st.Cursor, st.Pending, st.State, st.Attempts, nullTime(st.LastSuccessAt), st.LastError,
		nullTime(st.LastErrorAt), id)
	return forwarderRow(tag, err, "save forwarder status", id)
}

// AddDeadLetters adds events to forwarder id's dead-letter list, updating
// earlier entries for the same events.
func (db *DB) AddDeadLetters(ctx context.Context, id string, dls []*trail.DeadLetter) error {
	b := &pgx.Batch{}
	for _, d := range dls {
		b.Queue(`INSERT INTO forwarder_dead_letters (forwarder_id, pos, event_id, tenant, action, attempts, error,
			failed_at, replay) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, false)
			ON CONFLICT (forwarder_id, pos) DO UPDATE SET attempts = forwarder_dead_letters.attempts + excluded.attempts,
			error = excluded.error, failed_at = excluded.failed_at, replay = false`,
			id, d.Pos, d.EventID, d.Tenant, d.Action, d.Attempts, d.Error, d.FailedAt)
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("add dead letters: %w", wrap(err))
	}
	return nil
}

// StreamHead returns the Pos of the newest stored event, 0 when none. The
// counter row holds the next Pos of committed appends only: an append that
// has not committed yet holds its lock, not its value.
func (db *DB) StreamHead(ctx context.Context) (int64, error) {
	var next int64
	if err := db.pool.QueryRow(ctx, "SELECT next_pos FROM stream_pos").Scan(&next); err != nil {
		return 0, fmt.Errorf("stream head: %w", wrap(err))
	}
	return next - 1, nil
}

// forwarderContext binds a forwarder's sealed settings to its row.
func forwarderContext(id string) string { return tables.ForwarderContext(id) }

// forwarderRow turns the result of a statement that must touch exactly one
// forwarder into ENOTFOUND when it touched none.
func forwarderRow(tag pgconn.CommandTag, err error, what, id string) error {
	return tables.ForwarderRow(tag.RowsAffected(), wrap(err), what, id)
}
