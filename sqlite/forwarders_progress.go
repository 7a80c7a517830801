package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// LogProgress measures stream position pos in tenant's log: the Seq of
// its first event beyond pos and how many of its events lie beyond pos.
// Within a tenant Seq and Pos grow together, so the last event at or
// before pos is found walking the (tenant, seq) index back from the head:
// the cost grows with the lag, not with the log.
func (db *DB) LogProgress(ctx context.Context, tenant string, pos int64) (next, behind int64, err error) {
	var last, first sql.NullInt64
	var size int64
	err = db.r.QueryRowContext(ctx, `SELECT
		coalesce((SELECT next_seq FROM tenant_seqs WHERE tenant = ?1), 0),
		(SELECT seq FROM events WHERE tenant = ?1 AND pos <= ?2 ORDER BY seq DESC LIMIT 1),
		(SELECT min(seq) FROM events WHERE tenant = ?1)`, tenant, pos).Scan(&size, &last, &first)
	if err != nil {
		return 0, 0, fmt.Errorf("log progress: %w", err)
	}
	next = logNext(size, last, first)
	return next, size - next, nil
}

// logNext is the Seq of the first event beyond the position: after the
// last one at or before it, else the oldest stored (retention may have
// removed those before), else none is stored beyond it.
func logNext(size int64, last, first sql.NullInt64) int64 {
	switch {
	case last.Valid:
		return last.Int64 + 1
	case first.Valid:
		return first.Int64
	default:
		return size
	}
}
