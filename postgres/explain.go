package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/trailhq/trail"
)

// Explain runs the page query of q under EXPLAIN (ANALYZE, BUFFERS) and
// returns the plan: which indexes and partitions a filter reads, for
// benchmarks and for operators sizing a database.
func (db *DB) Explain(ctx context.Context, q *trail.Query) (string, error) {
	p, err := db.newPlan(ctx, q)
	if err != nil {
		return "", wrap(err)
	}
	query, args, err := p.sql()
	if err != nil {
		return "", err
	}
	rows, err := db.pool.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) "+query, args...)
	if err != nil {
		return "", fmt.Errorf("explain: %w", wrap(err))
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", fmt.Errorf("explain: %w", wrap(err))
	}
	return strings.Join(lines, "\n"), nil
}
