package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/tables"
)

var _ trail.LogStore = (*DB)(nil)

// AppendLogs stores every record with one COPY, in one transaction.
func (db *DB) AppendLogs(ctx context.Context, logs []*trail.LogRecord) error {
	rows, err := db.LogRows(logs)
	if err != nil {
		return fmt.Errorf("append logs: %w", err)
	}
	_, err = db.pool.CopyFrom(ctx, pgx.Identifier{"exec_logs"}, tables.LogColumns, pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("append logs: %w", wrap(err))
	}
	return nil
}
