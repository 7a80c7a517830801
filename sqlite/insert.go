package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/trailhq/trail"
)

// inserter writes the rows of one append transaction many rows per
// statement: each statement execution costs a trip through database/sql
// and cgo, which for one row costs about as much as SQLite's own work.
type inserter struct {
	tx       *sql.Tx
	events   *rowBuffer
	postings map[int64]*rowBuffer // by segment
}

// Rows per INSERT statement, within SQLite's limit of 32766 parameters.
const (
	eventRows   = 64
	postingRows = 128
)

func newInserter(tx *sql.Tx) *inserter {
	return &inserter{
		tx: tx,
		events: newRowBuffer("events", eventRows, "pos", "id", "tenant", "seq", "action", "occurred_at",
			"received_at", "actor_type", "actor_id", "actor_name", "ip", "trace_id", "data"),
		postings: map[int64]*rowBuffer{},
	}
}

// event buffers e's row and its postings in segment seg.
func (ins *inserter) event(ctx context.Context, e *trail.Event, seg int64, data []byte) error {
	at := e.OccurredAt.UnixMicro()
	err := ins.events.add(ctx, ins.tx, e.Pos, e.ID, e.Tenant, e.Seq, e.Action, at, e.ReceivedAt.UnixMicro(),
		e.Actor.Type, e.Actor.ID, e.Actor.Name, e.Context.IP, e.TraceID, data)
	if err != nil {
		return err
	}
	p := ins.postings[seg]
	if p == nil {
		p = newRowBuffer(postingsTable(seg), postingRows, "k", "t", "id", "tenant", "pos")
		ins.postings[seg] = p
	}
	for _, k := range postingKeys(e) {
		if err := p.add(ctx, ins.tx, k, at, e.ID, e.Tenant, e.Pos); err != nil {
			return err
		}
	}
	return nil
}

// flush writes the rows still buffered.
func (ins *inserter) flush(ctx context.Context) error {
	if err := ins.events.flush(ctx, ins.tx); err != nil {
		return err
	}
	for _, p := range ins.postings {
		if err := p.flush(ctx, ins.tx); err != nil {
			return err
		}
	}
	return nil
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
