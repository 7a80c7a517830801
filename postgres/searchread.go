package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/trailhq/trail"
)

// A search reads its page in two steps, neither of which asks the
// planner's statistics how common its words are (they are missing right
// after ingest, and a guess either way cost seconds):
//
//  1. a bounded walk: the page's own plan (the ordered index scans of the
//     same query without a search) reads the next rows with the narrowing
//     checked on each row, and returns the events that meet it (walk);
//     what Match keeps of them goes into the page. It reads a page's worth
//     of rows first (a common word fills the page there), then about
//     twice the rows the matches so far say the page needs, up to
//     walkRows in all.
//  2. when the walk read its rows and did not fill the page, the share of
//     rows that met the narrowing decides: a dense one (at least one row
//     in denseShare) walks on, in chunks that double up to walkChunk rows
//     (or about twice what the page needs), since the GIN index would read
//     about as many candidates, scattered over every tenant; a sparse one
//     reads on, from the walk's last row, through the GIN index
//     (searchgin.go), in time windows of whole monthly partitions that
//     widen from the newest (one month, then one more, then two, four...),
//     so that a GIN bitmap never spans every partition before the newest
//     have been read, and a word that is rare in the newest months but
//     common in older ones reads no more than it needs.
//
// The walk costs at most walkRows rows whatever the words; the GIN read
// costs about the candidates of the windows it reads. What neither bounds
// is a search whose narrowing is dense and whose matches are rare (words
// that are each common in a phrase, a field or an order Match refuses,
// NOT alone): it walks until the page is full.
const (
	walkRows   = 1024
	walkChunk  = 8192
	denseShare = 128
)

// SetSearchWalk sets the rows a search walks before it decides how to read
// on (walkRows unless set): 0 reads through the GIN index at once, and a
// negative n walks to the end, never reading the GIN index. It is for
// tests and benchmarks, and must be called before the store is used.
func (db *DB) SetSearchWalk(n int) { db.walkRows = n }

// searchEvents reads a page of q, which has a Search: Limit+1 events that
// Match keeps, in page order.
func (db *DB) searchEvents(ctx context.Context, q *trail.Query) ([]*trail.Event, error) {
	tsq := tsquery(q.Search.IndexExpr())
	cq := *q
	var out []*trail.Event
	wk := walking{want: q.PageLimit() + 1, most: db.walkRows}
	if db.walkRows < 0 || tsq == "" {
		wk.most = -1 // walk to the end
	}
	for rows := wk.next(0); rows > 0; rows = wk.next(rows) {
		w, err := walk(ctx, db.pages, &cq, tsq, rows)
		if err != nil {
			return nil, err
		}
		var full bool
		if out, full = keepMatches(q.Search, out, w.hits, wk.want); full || w.rows < rows {
			return out, nil // the page is full, or every row was read
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		cq.After = w.last
		wk.scanned, wk.hits, wk.matched = wk.scanned+w.rows, wk.hits+len(w.hits), len(out)
	}
	return db.ginSearch(ctx, &cq, tsq, out)
}

// walking is what a search's walk has read so far.
type walking struct {
	want, most int // the events a page needs; the rows to walk before deciding (-1: walk to the end)
	scanned    int // rows read
	hits       int // rows that met the narrowing
	matched    int // events Match kept
}

// next returns the rows of the next walk after one of last rows, or 0 to
// read on through the GIN index: a page's worth first; then the rows the
// matches so far say the page needs (twice that), up to most in all; then
// 0 if fewer than one row in denseShare met the narrowing, else chunks
// that double, or again what the page needs, up to walkChunk.
func (w *walking) next(last int) int {
	if last == 0 {
		if w.most < 0 {
			return w.want
		}
		return min(w.want, w.most)
	}
	rows := min(2*last, walkChunk)
	switch {
	case w.most >= 0 && w.scanned < w.most:
		rows = w.most - w.scanned
	case w.most >= 0 && w.hits*denseShare < w.scanned:
		return 0 // sparse: the GIN index reads fewer rows
	}
	if w.matched > 0 {
		rows = min(rows, max(w.want, 2*(w.want-w.matched)*w.scanned/w.matched))
	}
	return max(rows, 2)
}

// keepMatches appends to out the events of evs that s matches, until out
// holds want, and reports whether it does.
func keepMatches(s *trail.Search, out, evs []*trail.Event, want int) ([]*trail.Event, bool) {
	for _, e := range evs {
		if s.Match(e) {
			if out = append(out, e); len(out) == want {
				return out, true
			}
		}
	}
	return out, false
}

// walked is what a bounded walk read.
type walked struct {
	hits []*trail.Event // the rows that met the narrowing, in page order
	rows int            // rows read
	last *trail.Cursor  // after the last row read
}

// walk reads the next rows rows of q's filters in page order (after
// q.After) and returns those that meet tsq (all of them when tsq is "").
// The narrowing is a column of each row, not a condition, so the scans'
// LIMIT bounds the rows read, and only the events of the rows that meet
// it are sent.
func walk(ctx context.Context, db querier, q *trail.Query, tsq string, rows int) (*walked, error) {
	p, err := walkPlan(ctx, db, q, tsq, rows)
	if err != nil {
		return nil, err
	}
	query, args, err := p.sql()
	if err != nil {
		return nil, err
	}
	res, err := db.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	w := &walked{}
	var (
		pos  int64
		data *string
		key  rowKey
	)
	dest := []any{&pos, &data, &key.t, &key.id}
	if p.keyCol != "" {
		dest = []any{&pos, &data, &key.k, &key.t, &key.id}
	}
	_, err = pgx.ForEachRow(res, dest, func() error {
		w.rows++
		if data == nil {
			return nil
		}
		e, err := trail.DecodeStored(pos, []byte(*data))
		w.hits = append(w.hits, e)
		return err
	})
	if err != nil || w.rows == 0 {
		return w, err
	}
	w.last = &trail.Cursor{Sort: q.SortKey(), Desc: q.Desc, Key: key.k, OccurredAt: key.t, ID: uuidText(key.id)}
	return w, nil
}

// walkPlan returns the plan of a walk of the next rows rows of q, whose
// rows carry tsq's check as their column h.
func walkPlan(ctx context.Context, db querier, q *trail.Query, tsq string, rows int) (*plan, error) {
	cq := *q
	cq.Limit = max(rows-1, 1) // a page reads Limit+1 rows
	p, err := newPlan(ctx, db, &cq)
	if err != nil {
		return nil, err
	}
	p.tsq, p.hits = tsq, true
	return p, nil
}
