package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/trailhq/trail"
)

// Rows of one append transaction are inserted many rows per statement:
// each statement execution costs a trip through database/sql and cgo,
// which for one row costs about as much as SQLite's own work.

// Rows per INSERT statement, within SQLite's limit of 32766 parameters.
const (
	eventRows   = 64
	postingRows = 128
)

// newEventRows returns the buffer of an append transaction's event rows.
func newEventRows() *rowBuffer {
	return newRowBuffer("events", eventRows, "pos", "id", "tenant", "seq", "action", "occurred_at",
		"received_at", "actor_type", "actor_id", "actor_name", "ip", "trace_id", "data")
}

// insertEvent buffers e's row. Its postings are the indexer's (indexer.go).
func insertEvent(ctx context.Context, tx *sql.Tx, rows *rowBuffer, e *trail.Event, data []byte) error {
	return rows.add(ctx, tx, e.Pos, e.ID, e.Tenant, e.Seq, e.Action, e.OccurredAt.UnixMicro(), e.ReceivedAt.UnixMicro(),
		e.Actor.Type, e.Actor.ID, e.Actor.Name, e.Context.IP, e.TraceID, data)
}

// rowBuffer collects rows of one table and inserts them max at a time.
type rowBuffer struct {
	table string
	cols  []string
	max   int
	rows  int
	args  []any
}

func newRowBuffer(table string, max int, cols ...string) *rowBuffer {
	return &rowBuffer{table: table, cols: cols, max: max, args: make([]any, 0, max*len(cols))}
}

func (b *rowBuffer) add(ctx context.Context, tx *sql.Tx, vals ...any) error {
	b.args = append(b.args, vals...)
	if b.rows++; b.rows == b.max {
		return b.flush(ctx, tx)
	}
	return nil
}

// flush inserts the buffered rows. The statement text depends only on the
// row count, so the driver's statement cache keeps it prepared.
func (b *rowBuffer) flush(ctx context.Context, tx *sql.Tx) error {
	if b.rows == 0 {
		return nil
	}
	row := "(" + placeholders(len(b.cols)) + ")"
	query := "INSERT OR FAIL INTO " + b.table + " (" + strings.Join(b.cols, ", ") + ") VALUES " +
		strings.TrimSuffix(strings.Repeat(row+", ", b.rows), ", ")
	_, err := tx.ExecContext(ctx, query, b.args...)
	b.rows, b.args = 0, b.args[:0]
	switch {
	case err != nil && isConstraint(err) && b.table == "events":
		return trail.Errorf(trail.ECONFLICT, "an event with one of these ids is already stored")
	case err != nil:
		return fmt.Errorf("insert into %s: %w", b.table, err)
	}
	return nil
}
