package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/trailhq/trail"
)

var _ trail.RetentionStore = (*DB)(nil)

// RetentionEnd returns the first Seq >= from of tenant's log whose event
// is not past cutoff, or the log's size. The unary + keeps SQLite off the
// time index, so it walks the log in Seq order and reads only the expired
// events before the answer.
func (db *DB) RetentionEnd(ctx context.Context, tenant string, from int64, cutoff time.Time) (int64, error) {
	var seq int64
	err := db.r.QueryRowContext(ctx, `SELECT seq FROM events WHERE tenant = ? AND seq >= ? AND +occurred_at >= ?
		ORDER BY seq LIMIT 1`, tenant, from, cutoff.UnixMicro()).Scan(&seq)
	if err == sql.ErrNoRows {
		err = db.r.QueryRowContext(ctx, "SELECT coalesce(max(next_seq), 0) FROM tenant_seqs WHERE tenant = ?", tenant).Scan(&seq)
	}
	if err != nil {
		return 0, fmt.Errorf("find retention end: %w", err)
	}
	return max(seq, from), nil
}

// heldSQL is true for an event row e that a legal hold covers.
const heldSQL = `EXISTS (SELECT 1 FROM legal_holds h WHERE h.tenant = e.tenant AND (
	h.kind = 'tenant'
	OR (h.kind = 'time_range' AND e.occurred_at >= h.since AND e.occurred_at < h.until)
	OR (h.kind = 'target' AND EXISTS (SELECT 1 FROM json_each(CAST(e.data AS TEXT), '$.targets') AS t
		WHERE t.value ->> 'type' = h.target_type AND t.value ->> 'id' = h.target_id))))`

// DeleteEvents deletes the unheld events among up to limit events of
// tenant's log with Seq in [from, before), in one transaction.
func (db *DB) DeleteEvents(ctx context.Context, tenant string, from, before int64, limit int) (int64, int64, error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("delete events: %w", err)
	}
	defer rollback(tx)
	rows, err := tx.QueryContext(ctx, `SELECT e.pos, e.seq, e.data, `+heldSQL+` FROM events e
		WHERE e.tenant = ? AND e.seq >= ? AND e.seq < ? ORDER BY e.seq LIMIT ?`, tenant, from, before, limit)
	if err != nil {
		return 0, 0, fmt.Errorf("delete events: %w", err)
	}
	var doomed []*trail.Event
	next, examined := before, 0
	for rows.Next() {
		var pos, seq int64
		var data []byte
		var held bool
		if err := rows.Scan(&pos, &seq, &data, &held); err != nil {
			rows.Close()
			return 0, 0, fmt.Errorf("delete events: %w", err)
		}
		if examined++; examined == limit {
			next = seq + 1
		}
		if held {
			continue
		}
		e, err := trail.DecodeStored(pos, data)
		if err != nil {
			rows.Close()
			return 0, 0, err
		}
		doomed = append(doomed, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, fmt.Errorf("delete events: %w", err)
	}
	gen, err := deleteEventRows(ctx, tx, doomed)
	if err != nil {
		return 0, 0, fmt.Errorf("delete events: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, fmt.Errorf("delete events: %w", err)
	}
	db.forgetPostings(ctx, doomed, gen)
	return int64(len(doomed)), next, nil
}

// deleteEventRows deletes events and counts the deletion in store_meta,
// returning the count. Once tx commits, the caller removes their postings
// with forgetPostings.
func deleteEventRows(ctx context.Context, tx *sql.Tx, evs []*trail.Event) (int64, error) {
	if len(evs) == 0 {
		return 0, nil
	}
	delEvent, err := tx.PrepareContext(ctx, "DELETE FROM events WHERE pos = ?")
	if err != nil {
		return 0, err
	}
	defer delEvent.Close()
	for _, e := range evs {
		if _, err := delEvent.ExecContext(ctx, e.Pos); err != nil {
			return 0, err
		}
	}
	return noteDeletions(ctx, tx)
}
