package postgres

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/trailhq/trail"
)

// Explain runs the page query of q under EXPLAIN (ANALYZE, BUFFERS) and
// returns the plan: which indexes and partitions a filter reads, for
// benchmarks and for operators sizing a database. It explains the generic
// plan that Events runs, by preparing the query and explaining its
// execution with the arguments written out as literals. A page read by keys
// (pagekeys.go) has two plans: its keys, then its events. Of a page over
// more than maxBranches branches it explains the second step (narrow.go).
func (db *DB) Explain(ctx context.Context, q *trail.Query) (string, error) {
	conn, err := db.pages.Acquire(ctx)
	if err != nil {
		return "", fmt.Errorf("explain: %w", wrap(err))
	}
	defer conn.Release()
	if q.Search != nil {
		return db.explainSearch(ctx, conn, q)
	}
	p, err := newPlan(ctx, conn, q)
	if err != nil {
		return "", err
	}
	query, args, err := p.sql()
	if err != nil {
		return "", err
	}
	plan, err := explain(ctx, conn, query, args)
	if err != nil || !p.byKeys {
		return plan, err
	}
	rows, err := conn.Query(ctx, query, args...)
	if err != nil {
		return "", fmt.Errorf("explain: %w", wrap(err))
	}
	keys, err := pgx.CollectRows(rows, pgx.RowToStructByPos[pageKey])
	if err != nil || len(keys) == 0 {
		return plan, wrap(err)
	}
	fetch, err := explainFetch(ctx, conn, keys)
	return "-- 1. keys\n" + plan + "\n-- 2. events\n" + fetch, err
}

// explainFetch explains the read of the events of keys, with the setting
// fetchEvents runs it with.
func explainFetch(ctx context.Context, conn *pgxpool.Conn, keys []pageKey) (string, error) {
	if _, err := conn.Exec(ctx, bitmapOnly); err != nil {
		return "", fmt.Errorf("explain: %w", wrap(err))
	}
	for _, r := range bitmapReset {
		defer conn.Exec(context.WithoutCancel(ctx), r)
	}
	var plans []string
	for m, ids := range keysByMonth(keys) {
		plan, err := explain(ctx, conn, fetchSQL(m), []any{ids})
		if err != nil {
			return "", err
		}
		plans = append(plans, plan)
	}
	slices.Sort(plans)
	return strings.Join(plans, "\n"), nil
}

// explain prepares query and explains the execution of its generic plan
// with args.
func explain(ctx context.Context, conn *pgxpool.Conn, query string, args []any) (string, error) {
	if _, err := conn.Conn().Prepare(ctx, "trail_explain", query); err != nil {
		return "", fmt.Errorf("explain: %w", wrap(err))
	}
	defer conn.Conn().Deallocate(context.WithoutCancel(ctx), "trail_explain")
	lits := make([]string, len(args))
	for i, a := range args {
		var err error
		if lits[i], err = literal(a); err != nil {
			return "", err
		}
	}
	exec := "EXECUTE trail_explain"
	if len(lits) > 0 { // a query of every tenant without filters has none
		exec += "(" + strings.Join(lits, ", ") + ")"
	}
	rows, err := conn.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) "+exec)
	if err != nil {
		return "", fmt.Errorf("explain: %w", wrap(err))
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", fmt.Errorf("explain: %w", wrap(err))
	}
	return strings.Join(lines, "\n"), nil
}

// literal writes a page query argument as SQL.
func literal(v any) (string, error) {
	quote := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	switch v := v.(type) {
	case string:
		return quote(v), nil
	case int:
		return strconv.Itoa(v), nil
	case time.Time:
		return quote(v.UTC().Format(time.RFC3339Nano)) + "::timestamptz", nil
	case [16]byte:
		return quote(uuidText(v)) + "::uuid", nil
	case [][16]byte:
		q := make([]string, len(v))
		for i, u := range v {
			q[i] = quote(uuidText(u))
		}
		return "ARRAY[" + strings.Join(q, ", ") + "]::uuid[]", nil
	case []string:
		q := make([]string, len(v))
		for i, s := range v {
			q[i] = quote(s)
		}
		return "ARRAY[" + strings.Join(q, ", ") + "]::text[]", nil
	}
	return "", fmt.Errorf("explain: no literal for %T", v)
}

func uuidText(v [16]byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", v[0:4], v[4:6], v[6:8], v[8:10], v[10:])
}
