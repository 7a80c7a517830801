package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/trailhq/trail"
)

// Explain runs the page query of q under EXPLAIN (ANALYZE, BUFFERS) and
// returns the plan: which indexes and partitions a filter reads, for
// benchmarks and for operators sizing a database. It explains the generic
// plan that Events runs, by preparing the query and explaining its
// execution with the arguments written out as literals.
func (db *DB) Explain(ctx context.Context, q *trail.Query) (string, error) {
	conn, err := db.pages.Acquire(ctx)
	if err != nil {
		return "", fmt.Errorf("explain: %w", wrap(err))
	}
	defer conn.Release()
	query, args, err := pageQuery(ctx, conn, q)
	if err != nil {
		return "", err
	}
	if _, err := conn.Conn().Prepare(ctx, "trail_explain", query); err != nil {
		return "", fmt.Errorf("explain: %w", wrap(err))
	}
	defer conn.Conn().Deallocate(context.WithoutCancel(ctx), "trail_explain")
	lits := make([]string, len(args))
	for i, a := range args {
		if lits[i], err = literal(a); err != nil {
			return "", err
		}
	}
	rows, err := conn.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE trail_explain("+
		strings.Join(lits, ", ")+")")
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
		return quote(fmt.Sprintf("%x-%x-%x-%x-%x", v[0:4], v[4:6], v[6:8], v[8:10], v[10:])) + "::uuid", nil
	case []string:
		q := make([]string, len(v))
		for i, s := range v {
			q[i] = quote(s)
		}
		return "ARRAY[" + strings.Join(q, ", ") + "]::text[]", nil
	}
	return "", fmt.Errorf("explain: no literal for %T", v)
}
