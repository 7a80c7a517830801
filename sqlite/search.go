package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/trailhq/trail"
)

// A query with a full-text search first scans a few of the events its
// other filters select, in its order, and keeps those Search matches: a
// common word fills the page there. Otherwise it asks the search index
// (searchindex.go) for candidate positions, reads those events back with
// the unindexed tail and keeps what passes every filter and Match. Either
// way the answer is exactly the scan's, only faster.
const (
	searchScanFirst = 4     // pages' worth of events scanned before the index is asked
	searchFetch     = 256   // candidates read back per statement
	searchMaxTail   = 20000 // unindexed events a search reads; past it, it scans
	searchMaxSorted = 5000  // candidates sorted for a page in action or actor order; past it, it scans
)

// searchEvents returns up to q.PageLimit()+1 events of a query with a
// full-text search, in q's order.
func (db *DB) searchEvents(ctx context.Context, q *trail.Query) ([]*trail.Event, error) {
	if expr := q.Search.IndexExpr(); db.search != nil && expr != nil {
		if first := cmp.Or(db.segments.searchScanFirst, searchScanFirst); first > 0 {
			evs, done, err := trail.ScanSearch(ctx, q, first*(q.PageLimit()+1), db.Events)
			if err != nil || done {
				return evs, err
			}
		}
		evs, done, err := db.indexSearch(ctx, q, expr)
		if err != nil || done {
			return evs, err
		}
	}
	evs, _, err := trail.ScanSearch(ctx, q, 0, db.Events)
	return evs, err
}

// indexSearch answers q from the search index and the unindexed tail;
// done is false when it cannot do so quickly (the index is far behind, or
// too many candidates must be sorted).
func (db *DB) indexSearch(ctx context.Context, q *trail.Query, expr *trail.SearchIndexExpr) (evs []*trail.Event, done bool, err error) {
	stx, err := db.search.r.BeginTx(ctx, nil)
	if err != nil {
		return nil, false, err
	}
	defer rollback(stx)
	cursor, err := searchCursor(ctx, stx)
	if err != nil {
		return nil, false, err
	}
	// The events' snapshot begins after the cursor was read, so it holds
	// every event the index covers (but those retention deleted).
	etx, err := db.r.BeginTx(ctx, nil)
	if err != nil {
		return nil, false, err
	}
	defer rollback(etx)
	var head int64
	if err := etx.QueryRowContext(ctx, "SELECT next_pos - 1 FROM stream_pos").Scan(&head); err != nil {
		return nil, false, err
	}
	if head-cursor > searchMaxTail {
		return nil, false, nil
	}
	if expr, err = narrowExpr(ctx, stx, expr); err != nil {
		return nil, false, err
	}
	c := &searchPage{q: q, want: q.PageLimit() + 1}
	filter, args := candidateFilter(q)
	tail, err := db.queryEvents(ctx, etx, "SELECT pos, data FROM events AS e NOT INDEXED WHERE pos > ? AND "+filter,
		append([]any{cursor}, args...)...)
	if err != nil {
		return nil, false, err
	}
	c.offer(tail)
	r := &candidates{db: db, stx: stx, etx: etx, match: ftsMatch(expr), cursor: cursor, page: c,
		filter: filter, args: args}
	if q.SortKey() == trail.SortOccurredAt {
		err = r.timeOrder(ctx)
	} else {
		done, err = r.all(ctx)
		if err != nil || !done {
			return nil, done, err
		}
	}
	if err != nil {
		return nil, false, err
	}
	return c.events(), true, nil
}

// searchProbe is how many documents of a word narrowExpr counts, at most,
// to tell a rare word from a common one.
const searchProbe = 2000

// narrowExpr returns x with each phrase of several words that holds a rare
// word (in fewer than searchProbe documents) looked up by its rarest word
// alone. FTS4 reads a phrase's words with their positions, and all of them
// when the phrase is rare ("user number 4242", two words of every event):
// a rare word's doclist is short, and Match checks the phrase. Counting
// stops at searchProbe documents a word, read newest first, the order
// the index keeps, so a common word costs little to count.
func narrowExpr(ctx context.Context, stx *sql.Tx, x *trail.SearchIndexExpr) (*trail.SearchIndexExpr, error) {
	if x.Op != "phrase" {
		kids := make([]*trail.SearchIndexExpr, len(x.Kids))
		for i, k := range x.Kids {
			var err error
			if kids[i], err = narrowExpr(ctx, stx, k); err != nil {
				return nil, err
			}
		}
		return &trail.SearchIndexExpr{Op: x.Op, Kids: kids}, nil
	}
	words := x.Tokens
	if x.Prefix {
		words = words[:len(words)-1]
	}
	if len(x.Tokens) < 2 || len(words) == 0 {
		return x, nil
	}
	rarest, least := "", searchProbe
	for _, w := range words {
		var n int
		err := stx.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT docid FROM docs WHERE docs MATCH ?
			ORDER BY docid DESC LIMIT ?)`, `"`+w+`"`, searchProbe).Scan(&n)
		if err != nil {
			return nil, fmt.Errorf("count search word: %w", err)
		}
		if n < least {
			rarest, least = w, n
		}
	}
	if rarest == "" {
		return x, nil
	}
	return &trail.SearchIndexExpr{Op: "phrase", Tokens: []string{rarest}}, nil
}

// ftsMatch writes an index lookup in FTS4's enhanced query syntax.
func ftsMatch(x *trail.SearchIndexExpr) string {
	switch x.Op {
	case "phrase":
		star := ""
		if x.Prefix {
			star = "*"
		}
		return `"` + strings.Join(x.Tokens, " ") + star + `"`
	}
	kids := make([]string, len(x.Kids))
	for i, k := range x.Kids {
		kids[i] = ftsMatch(k)
	}
	return "(" + strings.Join(kids, " "+strings.ToUpper(x.Op)+" ") + ")"
}

// searchPage gathers the events of a page of q, in any order.
type searchPage struct {
	q    *trail.Query
	want int
	evs  []*trail.Event
}

// offer keeps the events of evs that q selects after its cursor.
func (p *searchPage) offer(evs []*trail.Event) {
	for _, e := range evs {
		if p.q.Keeps(e) && p.q.Follows(e) {
			p.evs = append(p.evs, e)
		}
	}
}

// events sorts the events in q's order and keeps the first want.
func (p *searchPage) events() []*trail.Event {
	slices.SortFunc(p.evs, p.q.Compare)
	if len(p.evs) > p.want {
		p.evs = p.evs[:p.want]
	}
	return p.evs
}

// candidates reads the positions that the index finds for a lookup and
// offers their events to a page.
type candidates struct {
	db     *DB
	stx    *sql.Tx // the search file's snapshot
	etx    *sql.Tx // the events' snapshot
	match  string
	cursor int64
	page   *searchPage
	filter string // candidateFilter's, with its arguments
	args   []any
}

// candidateFilter returns the conditions that q's filters other than its
// search put on an event's row (alias e), to read candidates with: an
// event they refuse is not decoded. The page checks every filter again
// (Keeps), so these only spare work.
func candidateFilter(q *trail.Query) (string, []any) {
	p := filterPlan(q)
	c := &conds{where: []string{"1"}}
	if p.tenants != nil {
		c.add("e.tenant IN ("+placeholders(len(p.tenants))+")", anys(p.tenants)...)
	}
	p.residual("e.occurred_at", c)
	return strings.Join(c.where, " AND "), c.args
}

// all offers every candidate; false when there are too many to sort.
func (r *candidates) all(ctx context.Context) (bool, error) {
	pos, err := column[int64](ctx, r.stx, "SELECT docid FROM docs WHERE docs MATCH ? AND docid <= ? LIMIT ?",
		r.match, r.cursor, r.maxSorted()+1)
	if err != nil || len(pos) > r.maxSorted() {
		return false, err
	}
	for len(pos) > 0 {
		n := min(len(pos), searchFetch)
		if err := r.fetch(ctx, pos[:n]); err != nil {
			return false, err
		}
		pos = pos[n:]
	}
	return true, nil
}

func (r *candidates) maxSorted() int { return cmp.Or(r.db.segments.searchMaxSorted, searchMaxSorted) }

// timeOrder offers candidates newest position first (oldest first for an
// ascending page) until no position left can enter the page: the block
// bounds of the positions left are all past the page's last event.
func (r *candidates) timeOrder(ctx context.Context) error {
	q := r.page.q
	bounds, err := r.blockBounds(ctx)
	if err != nil {
		return err
	}
	order := "ASC"
	if q.Desc {
		order = "DESC"
	}
	rows, err := r.stx.QueryContext(ctx, "SELECT docid FROM docs WHERE docs MATCH ? AND docid <= ? ORDER BY docid "+order,
		r.match, r.cursor)
	if err != nil {
		return err
	}
	defer rows.Close()
	pos := make([]int64, 0, searchFetch)
	for rows.Next() {
		var p int64
		if err := rows.Scan(&p); err != nil {
			return err
		}
		if pos = append(pos, p); len(pos) < searchFetch {
			continue
		}
		if err := r.fetch(ctx, pos); err != nil {
			return err
		}
		if r.pageDone(bounds.at(p >> searchBlockShift)) {
			return nil
		}
		pos = pos[:0]
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return r.fetch(ctx, pos)
}

// pageDone reports whether the page is full and its last event comes
// before every event whose time is at or past bound (at or before, for an
// ascending page): then no position left can enter it.
func (r *candidates) pageDone(bound int64) bool {
	p := r.page
	if len(p.evs) < p.want {
		return false
	}
	last := p.events()[p.want-1].OccurredAt.UnixMicro()
	if p.q.Desc {
		return last > bound
	}
	return last < bound
}

// fetch offers the events at positions pos (those retention deleted are
// gone) to the page.
func (r *candidates) fetch(ctx context.Context, pos []int64) error {
	if len(pos) == 0 {
		return nil
	}
	args := make([]any, len(pos), len(pos)+len(r.args))
	for i, p := range pos {
		args[i] = p
	}
	evs, err := r.db.queryEvents(ctx, r.etx, "SELECT pos, data FROM events AS e NOT INDEXED WHERE pos IN ("+placeholders(len(pos))+") AND "+r.filter,
		append(args, r.args...)...)
	if err != nil {
		return fmt.Errorf("read search candidates: %w", err)
	}
	r.page.offer(evs)
	return nil
}

// timeBounds holds, for each block of positions in order, the latest time
// of any event at or before it (descending pages), or the earliest of any
// event at or after it (ascending pages).
type timeBounds struct {
	blocks []int64
	bound  []int64
}

// at returns the bound for the positions up to (or from) block b.
func (t timeBounds) at(b int64) int64 {
	i := sort.Search(len(t.blocks), func(i int) bool { return t.blocks[i] > b })
	if i == 0 {
		return t.bound[0]
	}
	return t.bound[i-1]
}

// blockBounds reads the time bounds of the blocks, for the page's order.
func (r *candidates) blockBounds(ctx context.Context) (timeBounds, error) {
	var t timeBounds
	rows, err := r.stx.QueryContext(ctx, "SELECT block, min_t, max_t FROM blocks ORDER BY block")
	if err != nil {
		return t, err
	}
	defer rows.Close()
	var mins []int64
	for rows.Next() {
		var b, lo, hi int64
		if err := rows.Scan(&b, &lo, &hi); err != nil {
			return t, err
		}
		if n := len(t.bound); n > 0 {
			hi = max(hi, t.bound[n-1]) // a running maximum from the first block
		}
		t.blocks, t.bound, mins = append(t.blocks, b), append(t.bound, hi), append(mins, lo)
	}
	if err := rows.Err(); err != nil || len(t.blocks) == 0 || r.page.q.Desc {
		return t, err
	}
	// Ascending: the running minimum from the last block back, read at
	// the block where the scan stands (positions at and after it).
	for i := len(mins) - 2; i >= 0; i-- {
		mins[i] = min(mins[i], mins[i+1])
	}
	t.bound = mins
	return t, nil
}

// exportSearch is ExportChunk for a query with a full-text search: the
// chunk is a page of the search.
func (db *DB) exportSearch(ctx context.Context, q *trail.Query, maxBytes int, c *trail.Chunk) error {
	evs, err := db.searchEvents(ctx, q)
	if err != nil {
		return fmt.Errorf("export events: %w", err)
	}
	for _, e := range evs {
		if c.Size() >= maxBytes {
			return nil
		}
		data, err := trail.StoredJSON(e)
		if err != nil {
			return fmt.Errorf("export events: %w", err)
		}
		c.Add(data)
	}
	return nil
}
