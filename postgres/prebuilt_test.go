package postgres_test

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/trailhq/trail/internal/pgtest"
)

// TestPrebuiltIndexes follows docs/operations.md (Building an index before
// an upgrade): with each partition's index of migrations 16 and 18 built
// beforehand with CREATE INDEX CONCURRENTLY, the migration's statement
// attaches them to the index on events instead of building its own, and the
// index is valid.
func TestPrebuiltIndexes(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t, pgtest.NewDB(t))
	fillSkewed(t, db, 1_000, skewTenant)
	pool := db.Pool()
	for _, m := range []struct{ file, name, cols, suffix string }{
		{"0016_actor_action.sql", "events_by_actor_action", "tenant, actor_id, action, occurred_at, id", "_by_actor_action"},
		{"0018_action_actor.sql", "events_by_action_actor", "tenant, action, actor_id, occurred_at, id", "_by_action_actor"},
	} {
		t.Run(m.name, func(t *testing.T) {
			// The store as before the upgrade.
			if _, err := pool.Exec(ctx, "DROP INDEX "+m.name); err != nil {
				t.Fatal(err)
			}
			rows, err := pool.Query(ctx, "SELECT format('CREATE INDEX CONCURRENTLY IF NOT EXISTS %I ON %I ("+m.cols+")', "+
				"c.relname || '"+m.suffix+"', c.relname) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "+
				"WHERE i.inhparent = 'events'::regclass ORDER BY c.relname")
			if err != nil {
				t.Fatal(err)
			}
			stmts, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil || len(stmts) == 0 {
				t.Fatalf("no statements (%v)", err)
			}
			for _, s := range stmts {
				if _, err := pool.Exec(ctx, s); err != nil {
					t.Fatalf("%s: %v", s, err)
				}
			}
			migration, err := os.ReadFile("migrations/" + m.file)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := pool.Exec(ctx, string(migration)); err != nil {
				t.Fatal(err)
			}
			var prebuilt, attached, others int
			var valid bool
			err = pool.QueryRow(ctx, "SELECT count(*) FILTER (WHERE c.relname LIKE '%' || $2), count(*), "+
				"(SELECT indisvalid FROM pg_index WHERE indexrelid = $1::regclass) "+
				"FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass",
				m.name, m.suffix).Scan(&prebuilt, &attached, &valid)
			if err != nil {
				t.Fatal(err)
			}
			err = pool.QueryRow(ctx, "SELECT count(*) FROM pg_indexes WHERE tablename LIKE 'events_p%' "+
				"AND indexdef LIKE '%(' || $1 || ')' AND indexname NOT LIKE '%' || $2", m.cols, m.suffix).Scan(&others)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := []int{prebuilt, attached, others}, []int{len(stmts), len(stmts), 0}; !valid || !slices.Equal(got, want) {
				t.Errorf("prebuilt, attached, built by the migration = %v, want %v; valid = %v", got, want, valid)
			}
		})
	}
}
