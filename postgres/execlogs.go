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
