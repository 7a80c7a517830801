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
