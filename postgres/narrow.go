package postgres

import (
	"bytes"
	"cmp"
	"context"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// A lateral page reads up to a page from each branch, and sorts what it
// read: for a platform key's page over 300 tenants of a few hundred events
// each, 300 runs of 51 rows, 15,000 events read and sorted (80 to 500 ms)
// for a page of 50. So a page of more than maxBranches branches is read in
// two steps instead, the way a top-N of many sorted lists is found:
//
//  1. the keys of each branch's first m rows (narrowRows), m about a page
//     over the square root of the number of branches, read from the
//     indexes alone where they can be;
//  2. the page itself, as a lateral page over only the branches that have
//     a key among the first page (plus one) of those keys, each read no
//     further than the last of them, x.
//
// It is exact: a branch without a key among the first page has all its
// rows after x, and no row past x can be in the page (the keys up to x are
// already a page). It is bounded: step 1 reads m keys a branch, and step 2
// reads a page from each branch whose m keys all come before x (at most a
// page over m of them) and fewer than m rows from every other.
func (p *plan) narrow(ctx context.Context, tx querier) (*plan, error) {
	p, err := p.untilNewest(ctx, tx)
	if err != nil {
		return nil, err
	}
	page := p.q.PageLimit() + 1
	keys, err := p.firstKeysOf(ctx, tx, narrowRows(len(p.branches), page))
	if err != nil {
		return nil, err
	}
	slices.SortFunc(keys, func(a, b branchKey) int { return p.compare(a.key, b.key) })
	n := *p
	if len(keys) >= page {
		n.bound = &keys[page-1].key
		keys = keys[:page]
	}
	in := make([]bool, len(p.branches))
	for _, k := range keys {
		in[k.n-1] = true
	}
	n.branches = nil
	for i, b := range p.branches {
		if in[i] {
			n.branches = append(n.branches, b)
		}
	}
	if len(n.branches) == 0 {
		// Nothing matches; one branch still runs, and finds nothing.
		n.branches = p.branches[:1]
	}
	return &n, nil
}

// narrowRows is how many keys of each of branches branches step 1 of
// narrow reads for a page of page rows: it then reads about
// branches*m + page*page/m keys and rows in all, least near
// page/sqrt(branches).
func narrowRows(branches, page int) int {
	return max(1, int(math.Ceil(float64(page)/math.Sqrt(float64(branches)))))
}

// rowKey is a row's place in page order: its sort key (k), occurred_at
// and id.
type rowKey struct {
	k  string
	t  time.Time
	id [16]byte
}

// branchKey is a row's key and its branch, numbered from 1.
type branchKey struct {
	n   int
	key rowKey
}

// compare orders a and b in page order. Sort keys are compared by bytes,
// as their collation ("C") does.
func (p *plan) compare(a, b rowKey) int {
	c := cmp.Or(strings.Compare(a.k, b.k), a.t.Compare(b.t), bytes.Compare(a.id[:], b.id[:]))
	if p.q.Desc {
		return -c
	}
	return c
}

// firstKeysOf reads the keys of the first m rows of each of p's branches,
// in no order.
func (p *plan) firstKeysOf(ctx context.Context, tx querier, m int) ([]branchKey, error) {
	k := *p
	k.firstKeys = m
	var a args
	from, err := k.lateralFrom(&a)
	if err != nil {
		return nil, err
	}
	var bk branchKey
	dest := []any{&bk.n, &bk.key.t, &bk.key.id}
	cols := "v.n, b.t, b.i"
	if p.keyCol != "" {
		dest = []any{&bk.n, &bk.key.k, &bk.key.t, &bk.key.id}
		cols = "v.n, b.k, b.t, b.i"
	}
	rows, err := tx.Query(ctx, "SELECT "+cols+" FROM "+from, a...)
	if err != nil {
		return nil, err
	}
	var keys []branchKey
	_, err = pgx.ForEachRow(rows, dest, func() error {
		keys = append(keys, bk)
		return nil
	})
	return keys, err
}

// untilNewest returns p, a newest-first page with no end of its time range,
// ending after the newest event. Each run of a branch reads every monthly
// partition its range meets, newest first, and three months ahead of now
// always exist, empty: for 300 tenants, 1,800 of the first step's 3,600
// index pages read were those months'. With the end a parameter, the
// runs skip them (the generic plan prunes partitions when it starts). An
// event appended meanwhile is left out, as if the page were read a moment
// earlier.
func (p *plan) untilNewest(ctx context.Context, tx querier) (*plan, error) {
	if !p.q.Desc || !p.q.Until.IsZero() {
		return p, nil
	}
	rows, err := tx.Query(ctx, "SELECT max(occurred_at) FROM events")
	if err != nil {
		return nil, err
	}
	newest, err := pgx.CollectExactlyOneRow(rows, pgx.RowTo[*time.Time])
	if err != nil || newest == nil {
		return p, err
	}
	q := *p.q
	q.Until = newest.Add(time.Microsecond)
	n := *p
	n.q = &q
	return &n, nil
}
