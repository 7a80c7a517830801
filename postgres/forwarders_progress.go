package postgres

import (
	"context"
	"fmt"
)

// LogProgress measures stream position pos in tenant's log: the Seq of
// its first event beyond pos and how many of its events lie beyond pos.
// Within a tenant Seq and Pos grow together, so the last event at or
// before pos is found walking events_by_seq back from the head: the cost
// grows with the lag, not with the log. One statement reads one snapshot.
func (db *DB) LogProgress(ctx context.Context, tenant string, pos int64) (next, behind int64, err error) {
	var last, first *int64
	var size int64
	err = db.pool.QueryRow(ctx, `SELECT
		coalesce((SELECT next_seq FROM tenant_seqs WHERE tenant = $1), 0),
		(SELECT seq FROM events WHERE tenant = $1 AND pos <= $2 ORDER BY seq DESC LIMIT 1),
		(SELECT min(seq) FROM events WHERE tenant = $1)`, tenant, pos).Scan(&size, &last, &first)
	if err != nil {
		return 0, 0, fmt.Errorf("log progress: %w", wrap(err))
	}
	switch {
	case last != nil:
		next = *last + 1
	case first != nil:
		next = *first
	default:
		next = size
	}
	return next, size - next, nil
}
