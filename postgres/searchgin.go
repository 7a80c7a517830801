package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/trailhq/trail"
)

// A search with few candidates reads them through the GIN index: first
// the keys of all of them (up to ginKeyLimit at once), in page order, then
// their events in growing chunks by key, as a scattered page reads its
// events (fetchChunks: bitmap heap scans that prefetch), each checked with
// Match, until the page is full. Only keys are sorted, so a search whose
// candidates are more than its estimate sorts thousands of small rows, not
// their JSON.

// ginKeyLimit is the most candidate keys read at once; past them, the
// next keys are read after the last.
const ginKeyLimit = 50_000

// SetSearchKeyLimit sets the most candidate keys a search reads at once
// through the GIN index (50,000 unless set), for tests. It must be called
// before the store is used.
func (db *DB) SetSearchKeyLimit(n int) { db.ginKeys = n }

// ginSettings make the GIN key query read the search index with a bitmap
// scan and sort what it finds (page connections turn both off, see
// pageSettings), and never walk a btree index instead: whatever the
// generic plan's guess of a tsquery's selectivity, the index bounds the
// read to the events that meet it. They are undone by ginReset.
const ginSettings = "SELECT set_config('enable_bitmapscan', 'on', false), set_config('enable_sort', 'on', false), " +
	"set_config('enable_indexscan', 'off', false), set_config('enable_indexonlyscan', 'off', false)"

var ginReset = []string{"RESET enable_bitmapscan", "RESET enable_sort", "RESET enable_indexscan", "RESET enable_indexonlyscan"}

// searchKey is a candidate's place in page order.
type searchKey struct {
	k  string
	t  time.Time
	id [16]byte
}

// searchChunk is the largest chunk of candidates whose events a search
// reads at once.
const searchChunk = 4096

// ginSearch reads on after q.After through the GIN index, appending to out
// the events Match keeps until it holds a page plus one. A page in time
// order reads time windows of whole months, newest first (oldest first
// for an ascending page), each twice the months of the one before, until
// the page is full or no partition is left (searchWindows). A page sorted
// by action or actor reads every month at once: its order is not time's.
func (db *DB) ginSearch(ctx context.Context, q *trail.Query, tsq string, out []*trail.Event) ([]*trail.Event, error) {
	want := q.PageLimit() + 1
	wins, err := db.searchWindows(ctx, q)
	if err != nil {
		return nil, err
	}
	cq := *q
	for _, w := range wins {
		for {
			keys, err := ginKeys(ctx, db.pages, &cq, tsq, w, db.ginKeys)
			if err != nil {
				return nil, err
			}
			var full bool
			if out, full, err = matchKeys(ctx, db.pages, q.Search, keys, out, want); full || err != nil {
				return out, err
			}
			if len(keys) < db.ginKeys {
				break // the window is read
			}
			last := keys[len(keys)-1]
			cq.After = &trail.Cursor{Sort: cq.SortKey(), Desc: cq.Desc, Key: last.k, OccurredAt: last.t, ID: uuidText(last.id)}
		}
	}
	return out, nil
}

// matchKeys reads the events of keys, in growing chunks, and appends to
// out those s matches, until out holds want.
func matchKeys(ctx context.Context, db batchQuerier, s *trail.Search, keys []searchKey, out []*trail.Event, want int) ([]*trail.Event, bool, error) {
	for lo, n := 0, want; lo < len(keys); lo, n = lo+n, min(2*n, searchChunk) {
		chunk := keys[lo:min(lo+n, len(keys))]
		pks := make([]pageKey, len(chunk))
		for i, k := range chunk {
			pks[i] = pageKey{OccurredAt: k.t, ID: k.id}
		}
		evs, err := eventsOf(ctx, db, pks)
		if err != nil {
			return nil, false, err
		}
		var full bool
		if out, full = keepMatches(s, out, evs, want); full {
			return out, true, nil
		}
	}
	return out, false, nil
}

// window is the months of the partitions a GIN read is kept to; nil is
// every partition.
type window []time.Time

// searchWindows returns the windows a GIN read of q reads, in page order.
// In time order: from the month of q's cursor (or the newest or oldest
// partition) onwards, one month, then one more, then two, four..., of the
// partitions that exist and meet q's time range. Sorted by action or
// actor: every partition at once.
func (db *DB) searchWindows(ctx context.Context, q *trail.Query) ([]window, error) {
	if q.SortKey() != trail.SortOccurredAt {
		return []window{nil}, nil
	}
	months, err := db.Partitions(ctx)
	if err != nil || len(months) == 0 {
		return []window{nil}, err
	}
	months = slices.DeleteFunc(months, func(m time.Time) bool { // outside the time range
		return !q.Since.IsZero() && !m.AddDate(0, 1, 0).After(q.Since) || !q.Until.IsZero() && !m.Before(q.Until)
	})
	if q.Desc {
		slices.Reverse(months)
	}
	if c := q.After; c != nil {
		// The months before the cursor's, in page order, hold nothing
		// after it.
		m := monthOf(c.OccurredAt)
		i := slices.IndexFunc(months, func(t time.Time) bool { return t.Equal(m) || q.Desc == t.Before(m) })
		if i < 0 {
			return nil, nil
		}
		months = months[i:]
	}
	var wins []window
	for n := 1; len(months) > 0; n = min(2*n, len(months)) {
		if len(wins) == 1 {
			n = 1 // the cursor's month alone, then one more
		}
		wins, months = append(wins, months[:min(n, len(months))]), months[min(n, len(months)):]
	}
	return wins, nil
}

// ginKeys reads the keys of q's candidates in window w that meet tsq, in
// page order, up to limit. The settings are undone in the same round trip, and
// with the implicit transaction if the query fails.
func ginKeys(ctx context.Context, db batchQuerier, q *trail.Query, tsq string, w window, limit int) ([]searchKey, error) {
	query, args, err := ginSQL(ctx, db, q, tsq, w, limit)
	if err != nil {
		return nil, err
	}
	b := &pgx.Batch{}
	b.Queue(ginSettings)
	b.Queue(query, args...)
	for _, r := range ginReset {
		b.Queue(r)
	}
	br := db.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	var keys []searchKey
	var k searchKey
	_, err = pgx.ForEachRow(rows, []any{&k.k, &k.t, &k.id}, func() error {
		keys = append(keys, k)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return keys, br.Close()
}

// ginSQL returns the query of the keys (sort key, occurred_at, id) of q's
// events in the partitions of window w that meet tsq, found by the GIN
// index (or not yet tokenized), with q's filters, scope and cursor checked
// on each, sorted into page order and cut to limit. Each partition is read
// by name, behind OFFSET 0, which keeps every other condition out of its
// scan: the narrowing is then the only condition an index could serve,
// and the search indexes (events_search, events_unsearched) the only ones
// that can, whatever the statistics say of the tenant or the time range.
func ginSQL(ctx context.Context, tx querier, q *trail.Query, tsq string, w window, limit int) (string, []any, error) {
	p := &plan{q: q, actions: actionFilter{trail.SplitActions(q.Actions)}}
	p.keyCol = sortColumns[q.SortKey()]
	key := cmp.Or(p.keyCol, "''")
	var a args
	cond := searchCond(a.add(tsq), tsq)
	tables := []string{"events"}
	if w != nil {
		tables = tables[:0]
		for _, m := range w {
			tables = append(tables, pgx.Identifier{PartitionName("events", m)}.Sanitize())
		}
	}
	reads := make([]string, len(tables))
	for i, t := range tables {
		reads[i] = "(SELECT tenant, occurred_at, id, action, actor_type, actor_id, actor_name, trace_id, ip, " +
			"first_target_type, first_target_id FROM " + t +
			" AS e WHERE " + cond + " OFFSET 0)"
	}
	var where []string
	add := func(cond string) { where = append(where, cond) }
	tenants, err := visibleTenants(ctx, tx, q.Scope, maxLateral)
	if err != nil {
		return "", nil, err
	}
	if tenants[0] != nil {
		ts := make([]string, len(tenants))
		for i, t := range tenants {
			ts[i] = *t
		}
		add("e.tenant = ANY(" + a.add(ts) + ")")
	}
	if !p.actions.all() {
		add(p.actions.where("e.action", &a))
	}
	if q.TargetType != "" || q.TargetID != "" {
		g := "g.tenant = e.tenant AND g.occurred_at = e.occurred_at AND g.event_id = e.id"
		if q.TargetType != "" {
			g += " AND g.type = " + a.add(q.TargetType)
		}
		if q.TargetID != "" {
			g += " AND g.id = " + a.add(q.TargetID)
		}
		add("EXISTS (SELECT 1 FROM event_targets AS g WHERE " + g + ")")
	}
	p.residual("e.occurred_at", &a, add)
	if err := p.keyset("e.occurred_at", "e.id", &a, add); err != nil {
		return "", nil, err
	}
	if len(where) == 0 {
		where = []string{"true"}
	}
	return "WITH m AS MATERIALIZED (SELECT " + key + " AS k, e.occurred_at AS t, e.id AS i FROM (" +
		strings.Join(reads, " UNION ALL ") + ") AS e WHERE " + strings.Join(where, " AND ") +
		") SELECT k, t, i FROM m ORDER BY " + p.order("") + fmt.Sprintf(" LIMIT %d", limit), a, nil
}

// explainSearch explains both steps of a search: its first walk, and its
// GIN read of the first window after the rows that walk read.
func (db *DB) explainSearch(ctx context.Context, conn *pgxpool.Conn, q *trail.Query) (string, error) {
	tsq := tsquery(q.Search.IndexExpr())
	rows := db.walkRows
	if rows <= 0 {
		rows = walkRows
	}
	p, err := walkPlan(ctx, conn, q, tsq, rows)
	if err != nil {
		return "", err
	}
	query, args, err := p.sql()
	if err != nil {
		return "", err
	}
	walkPlan, err := explain(ctx, conn, query, args)
	if err != nil || tsq == "" {
		return walkPlan, err
	}
	w, err := walk(ctx, conn, q, tsq, rows)
	if err != nil {
		return "", err
	}
	cq := *q
	if w.last != nil {
		cq.After = w.last
	}
	wins, err := db.searchWindows(ctx, &cq)
	if err != nil || len(wins) == 0 {
		return walkPlan, err
	}
	if query, args, err = ginSQL(ctx, conn, &cq, tsq, wins[0], db.ginKeys); err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, ginSettings); err != nil {
		return "", fmt.Errorf("explain: %w", wrap(err))
	}
	for _, r := range ginReset {
		defer conn.Exec(context.WithoutCancel(ctx), r)
	}
	ginPlan, err := explain(ctx, conn, query, args)
	return "-- 1. walk\n" + walkPlan + "\n-- 2. GIN, first window\n" + ginPlan, err
}
