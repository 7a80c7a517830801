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
//     same query without a search) reads the next rows, a page's worth,
//     then up to walkRows in all, with the narrowing checked on each row,
//     and returns the events that meet it (walk). What Match keeps of them
//     goes into the page. A common word fills the page here, after reading
//     about a page of rows.
//  2. when the walk read its rows and did not fill the page, the share of
//     rows that met the narrowing decides: a dense one (see denseShare)
//     walks on, in chunks that double up to walkChunk rows,
//     since the GIN index would read about as many rows; a sparse one
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
	walkRows  = 1024
	walkChunk = 8192
)

// SetSearchWalk sets the rows a search walks before it decides how to read
// on (walkRows unless set): 0 reads through the GIN index at once, and a
// negative n walks to the end, never reading the GIN index. It is for
// tests and benchmarks, and must be called before the store is used.
func (db *DB) SetSearchWalk(n int) { db.walkRows = n }

// searchEvents reads a page of q, which has a Search: Limit+1 events that
// Match keeps, in page order. The walk reads a page's worth of rows
// first (a common word needs no more), then the rest of walkRows, then
// decides.
func (db *DB) searchEvents(ctx context.Context, q *trail.Query) ([]*trail.Event, error) {
	want := q.PageLimit() + 1
	tsq := tsquery(q.Search.IndexExpr())
	ginOK := db.walkRows >= 0 && tsq != ""
	cq := *q
	var out []*trail.Event
	rows, scanned, hits := want, 0, 0
	if ginOK {
		rows = min(want, db.walkRows)
	}
	for rows > 0 {
		w, err := walk(ctx, db.pages, &cq, tsq, rows)
		if err != nil {
			return nil, err
		}
		var full bool
		if out, full = keepMatches(q.Search, out, w.hits, want); full || w.rows < rows {
			return out, nil // the page is full, or every row was read
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		cq.After = w.last
		scanned, hits = scanned+w.rows, hits+len(w.hits)
		switch {
		case ginOK && scanned < db.walkRows:
			rows = db.walkRows - scanned
		case ginOK && hits*denseShare(q) < scanned:
			rows = 0 // sparse: the GIN index reads fewer rows
		default:
			rows = min(2*rows, walkChunk)
		}
	}
	return db.ginSearch(ctx, &cq, tsq, out)
}

// denseShare returns the share of a walk's rows, one in n, that must meet
// the narrowing for a search of q to walk on. In time order, the GIN read
// is kept to a window of months, and costs the candidates there; sorted by
// action or actor, it reads every candidate of every month, so the walk
// goes on for narrowings down to one row in 128.
func denseShare(q *trail.Query) int {
	if q.SortKey() == trail.SortOccurredAt {
		return 4
	}
	return 128
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
	cq := *q
	cq.Limit = max(rows-1, 1) // a page reads Limit+1 rows
	p, err := newPlan(ctx, db, &cq)
	if err != nil {
		return nil, err
	}
	p.tsq, p.hits = tsq, true
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
