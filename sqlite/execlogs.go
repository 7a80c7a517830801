package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/trailhq/trail"
)

var _ trail.LogStore = (*DB)(nil)

// AppendLogs stores every record in one transaction.
func (db *DB) AppendLogs(ctx context.Context, logs []*trail.LogRecord) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("append logs: %w", err)
	}
	defer rollback(tx)
	stmt, err := tx.PrepareContext(ctx, "INSERT INTO exec_logs (id, tenant, trace_id, time, data) VALUES (?, ?, ?, ?, ?)")
	if err != nil {
		return fmt.Errorf("append logs: %w", err)
	}
	defer stmt.Close()
	for _, r := range logs {
		r.Time = r.Time.UTC().Truncate(time.Microsecond)
		r.ReceivedAt = r.ReceivedAt.UTC().Truncate(time.Microsecond)
		data, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("append logs: %w", err)
		}
		if _, err := stmt.ExecContext(ctx, r.ID, r.Tenant, r.TraceID, r.Time.UnixMicro(), data); err != nil {
			return fmt.Errorf("append logs: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("append logs: %w", err)
	}
	return nil
}

// TraceLogs returns one page of tenant's trace traceID, by (time, id).
func (db *DB) TraceLogs(ctx context.Context, tenant, traceID string, after *trail.LogCursor, limit int) ([]*trail.LogRecord, error) {
	q := "SELECT data FROM exec_logs WHERE tenant = ? AND trace_id = ?"
	args := []any{tenant, traceID}
	if after != nil {
		q += " AND (time, id) > (?, ?)"
		args = append(args, after.Time.UnixMicro(), after.ID)
	}
	rows, err := db.r.QueryContext(ctx, q+" ORDER BY time, id LIMIT ?", append(args, pageLimit(limit))...)
	if err != nil {
		return nil, fmt.Errorf("read trace logs: %w", err)
	}
	defer rows.Close()
	logs := []*trail.LogRecord{}
	for rows.Next() {
		var data []byte
		var r trail.LogRecord
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("read trace logs: %w", err)
		}
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, fmt.Errorf("decode log record: %w", err)
		}
		logs = append(logs, &r)
	}
	return logs, rows.Err()
}

// PruneLogs deletes up to limit records older than before.
func (db *DB) PruneLogs(ctx context.Context, before time.Time, limit int) (int64, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM exec_logs WHERE rowid IN
		(SELECT rowid FROM exec_logs WHERE time < ? ORDER BY time LIMIT ?)`, before.UnixMicro(), pageLimit(limit))
	if err != nil {
		return 0, fmt.Errorf("prune logs: %w", err)
	}
	return res.RowsAffected()
}
