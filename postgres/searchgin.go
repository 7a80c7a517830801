package postgres

import (
	"cmp"
	"context"
	"fmt"
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

// ginSearch reads a page of q, whose candidates meet tsq, through the GIN
// index.
func ginSearch(ctx context.Context, db batchQuerier, q *trail.Query, tsq string, limit int) ([]*trail.Event, error) {
	want := q.PageLimit() + 1
	cq := *q
	var out []*trail.Event
	for {
		keys, err := ginKeys(ctx, db, &cq, tsq, limit)
		if err != nil {
			return nil, err
		}
		for lo, n := 0, want; lo < len(keys); lo, n = lo+n, min(2*n, searchChunk) {
			chunk := keys[lo:min(lo+n, len(keys))]
			pks := make([]pageKey, len(chunk))
			for i, k := range chunk {
				pks[i] = pageKey{OccurredAt: k.t, ID: k.id}
			}
			evs, err := eventsOf(ctx, db, pks)
			if err != nil {
				return nil, err
			}
			var full bool
			if out, full = keepMatches(q.Search, out, evs, want); full {
				return out, nil
			}
		}
		if len(keys) < limit {
			return out, nil
		}
		last := keys[len(keys)-1]
		cq.After = &trail.Cursor{Sort: cq.SortKey(), Desc: cq.Desc, Key: last.k, OccurredAt: last.t, ID: uuidText(last.id)}
	}
}

// ginKeys reads the keys of q's candidates that meet tsq, in page order,
// up to limit. The settings are undone in the same round trip, and
// with the implicit transaction if the query fails.
func ginKeys(ctx context.Context, db batchQuerier, q *trail.Query, tsq string, limit int) ([]searchKey, error) {
	query, args, err := ginSQL(ctx, db, q, tsq, limit)
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
// events that meet tsq, found by the GIN index (or not yet tokenized),
// with q's filters, scope and cursor checked on each, sorted into page
// order and cut to limit.
func ginSQL(ctx context.Context, tx querier, q *trail.Query, tsq string, limit int) (string, []any, error) {
	p := &plan{q: q, actions: actionFilter{trail.SplitActions(q.Actions)}}
	p.keyCol = sortColumns[q.SortKey()]
	key := cmp.Or(p.keyCol, "''")
	var a args
	var where []string
	add := func(cond string) { where = append(where, cond) }
	add(searchCond(a.add(tsq)))
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
	return "WITH m AS MATERIALIZED (SELECT " + key + " AS k, e.occurred_at AS t, e.id AS i FROM events AS e WHERE " +
		strings.Join(where, " AND ") + ") SELECT k, t, i FROM m ORDER BY " + p.order("") +
		fmt.Sprintf(" LIMIT %d", limit), a, nil
}

// explainGIN explains the key query of a search that reads the GIN index,
// under ginSettings; ok is false when the search walks instead.
func (db *DB) explainGIN(ctx context.Context, conn *pgxpool.Conn, q *trail.Query) (plan string, ok bool, err error) {
	tsq := tsquery(q.Search.IndexExpr())
	if gin, err := db.useGIN(ctx, conn, tsq, q.PageLimit()); err != nil || !gin {
		return "", false, err
	}
	query, args, err := ginSQL(ctx, conn, q, tsq, db.ginKeys)
	if err != nil {
		return "", true, err
	}
	if _, err := conn.Exec(ctx, ginSettings); err != nil {
		return "", true, fmt.Errorf("explain: %w", wrap(err))
	}
	for _, r := range ginReset {
		defer conn.Exec(context.WithoutCancel(ctx), r)
	}
	plan, err = explain(ctx, conn, query, args)
	return plan, true, err
}
