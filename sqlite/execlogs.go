package sqlite

import (
	"context"
	"fmt"

	"github.com/trailhq/trail"
)

var _ trail.LogStore = (*DB)(nil)

// AppendLogs stores every record in one transaction.
func (db *DB) AppendLogs(ctx context.Context, logs []*trail.LogRecord) error {
	rows, err := db.LogRows(logs)
	if err != nil {
		return fmt.Errorf("append logs: %w", err)
	}
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
	for _, row := range rows {
		if _, err := stmt.ExecContext(ctx, row...); err != nil {
			return fmt.Errorf("append logs: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("append logs: %w", err)
	}
	return nil
}
