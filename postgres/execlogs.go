package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/trailhq/trail"
)

var _ trail.LogStore = (*DB)(nil)

// AppendLogs stores every record with one COPY, in one transaction.
func (db *DB) AppendLogs(ctx context.Context, logs []*trail.LogRecord) error {
	rows := make([][]any, len(logs))
	for i, r := range logs {
		r.Time = r.Time.UTC().Truncate(time.Microsecond)
		r.ReceivedAt = r.ReceivedAt.UTC().Truncate(time.Microsecond)
		data, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("append logs: %w", err)
		}
		rows[i] = []any{r.ID, r.Tenant, r.TraceID, r.Time, string(data)}
	}
	_, err := db.pool.CopyFrom(ctx, pgx.Identifier{"exec_logs"}, []string{"id", "tenant", "trace_id", "time", "data"},
		pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("append logs: %w", wrap(err))
	}
	return nil
}

// TraceLogs returns one page of tenant's trace traceID, by (time, id).
func (db *DB) TraceLogs(ctx context.Context, tenant, traceID string, after *trail.LogCursor, limit int) ([]*trail.LogRecord, error) {
	q := "SELECT data FROM exec_logs WHERE tenant = $1 AND trace_id = $2"
	args := []any{tenant, traceID, pageLimit(limit)}
	if after != nil {
		q += " AND (time, id) > ($4, $5)"
		args = append(args, after.Time, after.ID)
	}
	docs, err := queryStrings(ctx, db, q+" ORDER BY time, id LIMIT $3", args...)
	if err != nil {
		return nil, fmt.Errorf("read trace logs: %w", wrap(err))
	}
	logs := make([]*trail.LogRecord, len(docs))
	for i, d := range docs {
		logs[i] = new(trail.LogRecord)
		if err := json.Unmarshal([]byte(d), logs[i]); err != nil {
			return nil, fmt.Errorf("decode log record: %w", err)
		}
	}
	return logs, nil
}

// PruneLogs deletes up to limit records older than before.
func (db *DB) PruneLogs(ctx context.Context, before time.Time, limit int) (int64, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM exec_logs WHERE ctid IN
		(SELECT ctid FROM exec_logs WHERE time < $1 ORDER BY time LIMIT $2)`, before, pageLimit(limit))
	if err != nil {
		return 0, fmt.Errorf("prune logs: %w", wrap(err))
	}
	return tag.RowsAffected(), nil
}
