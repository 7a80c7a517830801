package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/trailhq/trail"
)

// Event returns the event with id, or ENOTFOUND when there is none or it is
// outside scope: a reader never learns that another tenant's event exists.
func (db *DB) Event(ctx context.Context, scope trail.Scope, id string) (*trail.Event, error) {
	var tenant string
	var pos int64
	var data []byte
	err := db.r.QueryRowContext(ctx, "SELECT tenant, pos, data FROM events WHERE id = ?", id).Scan(&tenant, &pos, &data)
	switch {
	case err == sql.ErrNoRows || err == nil && !scope.Visible(tenant):
		return nil, trail.Errorf(trail.ENOTFOUND, "event %s not found", id)
	case err != nil:
		return nil, fmt.Errorf("read event: %w", err)
	}
	return trail.DecodeStored(pos, data)
}

// StreamEvents returns up to limit events with Pos > after, in Pos order.
func (db *DB) StreamEvents(ctx context.Context, after int64, limit int) ([]*trail.Event, error) {
	evs, err := db.queryEvents(ctx, db.r, "SELECT pos, data FROM events WHERE pos > ? ORDER BY pos LIMIT ?",
		after, trail.PageSize(limit))
	if err != nil {
		return nil, fmt.Errorf("stream events: %w", err)
	}
	return evs, nil
}

// LogEvents returns up to limit events of tenant's log with Seq >= from, in
// Seq order.
func (db *DB) LogEvents(ctx context.Context, tenant string, from int64, limit int) ([]*trail.Event, error) {
	evs, err := db.queryEvents(ctx, db.r,
		"SELECT pos, data FROM events WHERE tenant = ? AND seq >= ? ORDER BY seq LIMIT ?",
		tenant, from, trail.PageSize(limit))
	if err != nil {
		return nil, fmt.Errorf("log events: %w", err)
	}
	return evs, nil
}

// PruneIdempotency forgets idempotency keys stored before t.
func (db *DB) PruneIdempotency(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.w.ExecContext(ctx, "DELETE FROM idempotency WHERE created_at < ?", before.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("prune idempotency keys: %w", err)
	}
	return res.RowsAffected()
}

// querier is what both *sql.DB and *sql.Tx offer for reads.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryEvents runs a query whose rows are (pos, data) and decodes them.
func (db *DB) queryEvents(ctx context.Context, q querier, query string, args ...any) ([]*trail.Event, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	evs := []*trail.Event{}
	for rows.Next() {
		var pos int64
		var data []byte
		if err := rows.Scan(&pos, &data); err != nil {
			return nil, err
		}
		e, err := trail.DecodeStored(pos, data)
		if err != nil {
			return nil, err
		}
		evs = append(evs, e)
	}
	return evs, rows.Err()
}
