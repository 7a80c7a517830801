package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/trailhq/trail"
)

// row is one event of a page before its data is read: its position and
// its sort key.
type row struct {
	pos  int64
	k    string
	t    int64
	id   string
	data []byte
}

// run returns the rows of the page in page order, up to one more than its
// limit.
//
// A page in time order reads segments newest first (oldest first when
// ascending), in growing batches, and stops once every segment left is
// entirely older than the page's last row: a page of a common action then
// reads one or two segments instead of all. The unindexed tail is read
// first. Other orders read every segment, and the tail, at once.
func (p *plan) run(ctx context.Context, tx *sql.Tx) ([]row, error) {
	if p.keyCol != "" {
		return p.query(ctx, tx, p.postingArms(p.segs))
	}
	segs := slices.Clone(p.segs)
	slices.SortFunc(segs, func(a, b segment) int {
		if p.q.Desc {
			return cmp.Compare(b.maxT, a.maxT)
		}
		return cmp.Compare(a.minT, b.minT)
	})
	n := p.q.PageLimit() + 1
	rows, err := p.query(ctx, tx, p.tailArms()) // in page order, at most n
	if err != nil {
		return nil, err
	}
	for batch := 1; len(segs) > 0 && !p.settled(rows, segs[0]); batch *= 2 {
		next, err := p.query(ctx, tx, p.segmentArms(segs[:min(batch, len(segs))]))
		if err != nil {
			return nil, err
		}
		rows = p.merge(rows, next, n)
		segs = segs[min(batch, len(segs)):]
	}
	return rows, nil
}

// settled reports whether the page's rows are final: the page is full and
// segment s, and every segment after it, is entirely beyond its last row.
func (p *plan) settled(rows []row, s segment) bool {
	if len(rows) < p.q.PageLimit()+1 {
		return false
	}
	last := rows[len(rows)-1].t
	if p.q.Desc {
		return s.maxT < last
	}
	return s.minT > last
}

// merge merges two lists of rows in page order and keeps the first n.
func (p *plan) merge(a, b []row, n int) []row {
	out := append(slices.Clone(a), b...)
	slices.SortFunc(out, func(x, y row) int {
		c := cmp.Or(strings.Compare(x.k, y.k), cmp.Compare(x.t, y.t), strings.Compare(x.id, y.id))
		if p.q.Desc {
			return -c
		}
		return c
	})
	return out[:min(n, len(out))]
}

// query runs the merge of arms and returns its rows.
func (p *plan) query(ctx context.Context, tx *sql.Tx, arms []arm) ([]row, error) {
	query, args := p.sql(arms)
	if query == "" {
		return nil, nil
	}
	rs, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var rows []row
	for rs.Next() {
		var r row
		dest := []any{&r.pos, &r.t, &r.id}
		if p.keyCol != "" {
			dest = []any{&r.pos, &r.k, &r.t, &r.id}
		}
		if err := rs.Scan(dest...); err != nil {
			return nil, err
		}
		rows = append(rows, r)
	}
	return rows, rs.Err()
}

// fetch reads the events of rows, in the rows' order.
func (db *DB) fetch(ctx context.Context, tx *sql.Tx, rows []row) ([]*trail.Event, error) {
	evs := make([]*trail.Event, 0, len(rows))
	if len(rows) == 0 {
		return evs, nil
	}
	index := make(map[int64]int, len(rows))
	args := make([]any, len(rows))
	for i, r := range rows {
		index[r.pos], args[i] = i, r.pos
	}
	rs, err := tx.QueryContext(ctx, "SELECT pos, data FROM events WHERE pos IN ("+placeholders(len(rows))+")", args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	for rs.Next() {
		var pos int64
		var data []byte
		if err := rs.Scan(&pos, &data); err != nil {
			return nil, err
		}
		rows[index[pos]].data = data
	}
	if err := rs.Err(); err != nil {
		return nil, err
	}
	for _, r := range rows {
		if r.data == nil {
			return nil, fmt.Errorf("event at pos %d: %w", r.pos, errPostingGone)
		}
		e, err := trail.DecodeStored(r.pos, r.data)
		if err != nil {
			return nil, err
		}
		evs = append(evs, e)
	}
	return evs, nil
}
