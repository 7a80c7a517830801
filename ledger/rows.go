package ledger

import (
	"context"
	"fmt"

	"github.com/trailhq/trail"
)

// rowsPage is how many rows the verifier reads at once.
const rowsPage = 1000

// rowReader reads every stored row of a log in stored-seq order, page by
// page, duplicates included.
type rowReader struct {
	src    Source
	tenant string
	buf    []trail.LedgerRow
	from   int64           // the stored seq the next page starts at
	seen   map[string]bool // ids already returned at seq from-... (see fill)
	done   bool
}

// next returns the next row, or nil after the last.
func (r *rowReader) next(ctx context.Context) (*trail.LedgerRow, error) {
	for len(r.buf) == 0 {
		if r.done {
			return nil, nil
		}
		if err := r.fill(ctx); err != nil {
			return nil, err
		}
	}
	row := r.buf[0]
	r.buf = r.buf[1:]
	return &row, nil
}

// fill reads the next page. A page ends anywhere, possibly between rows
// that share a seq, so the next page starts at the last seq again and
// skips the rows of that seq it has returned already.
func (r *rowReader) fill(ctx context.Context) error {
	rows, err := r.src.LedgerRows(ctx, r.tenant, r.from, rowsPage)
	if err != nil {
		return fmt.Errorf("log %q: read events: %w", r.tenant, err)
	}
	if len(rows) < rowsPage {
		r.done = true
	}
	last := r.from
	if len(rows) > 0 {
		last = rows[len(rows)-1].Seq
	}
	seen := map[string]bool{}
	for _, row := range rows {
		if row.Seq == r.from && r.seen[row.Event.ID] {
			continue
		}
		if row.Seq == last {
			seen[row.Event.ID] = true
		}
		r.buf = append(r.buf, row)
	}
	if last == r.from && !r.done {
		// A whole page of one seq: carry what was seen, and give up on
		// the rest of that seq rather than loop.
		last++
		seen = nil
	}
	r.from, r.seen = last, seen
	return nil
}
