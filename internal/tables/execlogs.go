package tables

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/trailhq/trail"
)

// TraceLogs returns one page of tenant's trace traceID, by (time, id). The
// stores append logs themselves: PostgreSQL with COPY.
func (t *Tables) TraceLogs(ctx context.Context, tenant, traceID string, after *trail.LogCursor, limit int) ([]*trail.LogRecord, error) {
	q := "SELECT data FROM exec_logs WHERE tenant = ? AND trace_id = ?"
	args := []any{tenant, traceID}
	if after != nil {
		q += " AND (time, id) > (?, ?)"
		args = append(args, t.d.Time(after.Time), after.ID)
	}
	logs, err := query(t, ctx, scanDoc[trail.LogRecord]("log record"), q+" ORDER BY time, id LIMIT ?", append(args, trail.PageSize(limit))...)
	if err != nil {
		return nil, fmt.Errorf("read trace logs: %w", err)
	}
	return logs, nil
}

// PruneLogs deletes up to limit records older than before.
func (t *Tables) PruneLogs(ctx context.Context, before time.Time, limit int) (int64, error) {
	id := t.d.RowID()
	n, err := t.exec(ctx, `DELETE FROM exec_logs WHERE `+id+` IN
		(SELECT `+id+` FROM exec_logs WHERE time < ? ORDER BY time LIMIT ?)`, t.d.Time(before), trail.PageSize(limit))
	if err != nil {
		return 0, fmt.Errorf("prune logs: %w", err)
	}
	return n, nil
}

// LogColumns are the columns of exec_logs, in the order of LogRows.
var LogColumns = []string{"id", "tenant", "trace_id", "time", "data"}

// LogRows normalizes the times of logs (UTC, microseconds) and returns
// their rows for the store to append.
func (t *Tables) LogRows(logs []*trail.LogRecord) ([][]any, error) {
	rows := make([][]any, len(logs))
	for i, r := range logs {
		r.Time = trail.NormalTime(r.Time)
		r.ReceivedAt = trail.NormalTime(r.ReceivedAt)
		data, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		rows[i] = []any{r.ID, r.Tenant, r.TraceID, t.d.Time(r.Time), t.d.Doc(data)}
	}
	return rows, nil
}
