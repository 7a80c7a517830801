package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/trailhq/trail"
)

// Event returns the event with id, or ENOTFOUND when there is none or it is
// outside scope: a reader never learns that another tenant's event exists.
func (db *DB) Event(ctx context.Context, scope trail.Scope, id string) (*trail.Event, error) {
	notFound := trail.Errorf(trail.ENOTFOUND, "event %s not found", id)
	uid, err := parseUUID(id)
	if err != nil {
		return nil, notFound
	}
	var tenant, data string
	var pos int64
	err = db.pool.QueryRow(ctx, `SELECT e.tenant, e.pos, e.data
		FROM event_ids AS i JOIN events AS e ON e.id = i.id AND e.occurred_at = i.occurred_at WHERE i.id = $1`, uid).Scan(&tenant, &pos, &data)
	switch {
	case errors.Is(err, pgx.ErrNoRows) || err == nil && !scope.Visible(tenant):
		return nil, notFound
	case err != nil:
		return nil, fmt.Errorf("read event: %w", wrap(err))
	}
	return trail.DecodeStored(pos, []byte(data))
}

// StreamEvents returns up to limit events with Pos > after, in Pos order.
func (db *DB) StreamEvents(ctx context.Context, after int64, limit int) ([]*trail.Event, error) {
	evs, err := queryEvents(ctx, db.pool, "SELECT pos, data FROM events WHERE pos > $1 ORDER BY pos LIMIT $2",
		after, trail.PageSize(limit))
	if err != nil {
		return nil, fmt.Errorf("stream events: %w", wrap(err))
	}
	return evs, nil
}

// LogEvents returns up to limit events of tenant's log with Seq >= from, in
// Seq order.
func (db *DB) LogEvents(ctx context.Context, tenant string, from int64, limit int) ([]*trail.Event, error) {
	evs, err := queryEvents(ctx, db.pool,
		"SELECT pos, data FROM events WHERE tenant = $1 AND seq >= $2 ORDER BY seq LIMIT $3",
		tenant, from, trail.PageSize(limit))
	if err != nil {
		return nil, fmt.Errorf("log events: %w", wrap(err))
	}
	return evs, nil
}

// querier is what both *pgxpool.Pool and pgx.Tx offer for reads.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// queryEvents runs a query whose rows are (pos, data) and decodes them.
func queryEvents(ctx context.Context, q querier, query string, args ...any) ([]*trail.Event, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	evs := []*trail.Event{}
	for rows.Next() {
		var pos int64
		var data string
		if err := rows.Scan(&pos, &data); err != nil {
			return nil, err
		}
		e, err := trail.DecodeStored(pos, []byte(data))
		if err != nil {
			return nil, err
		}
		evs = append(evs, e)
	}
	return evs, rows.Err()
}
