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
// an upgrade): with each partition's index of migrations 16, 18 and 21 built
// beforehand with CREATE INDEX CONCURRENTLY, the migration's statement
// attaches them to the partitioned index instead of building its own, and
// the index is valid.
func TestPrebuiltIndexes(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t, pgtest.NewDB(t))
	fillSkewed(t, db, 1_000, skewTenant)
	pool := db.Pool()
	// def is the columns as pg_indexes writes them; each migration's
	// other indexes are dropped and built again by it.
	for _, m := range []struct{ file, table, name, cols, def, suffix string }{
		{file: "0016_actor_action.sql", table: "events", name: "events_by_actor_action",
			cols: "tenant, actor_id, action, occurred_at, id", suffix: "_by_actor_action"},
		{file: "0018_action_actor.sql", table: "events", name: "events_by_action_actor",
			cols: "tenant, action, actor_id, occurred_at, id", suffix: "_by_action_actor"},
		{file: "0021_every_tenant.sql", table: "event_targets", name: "event_targets_by_target_all",
			cols: "(id || ''), type, occurred_at, event_id", def: "((id || ''::text)), type, occurred_at, event_id",
			suffix: "_by_target_all"},
	} {
		t.Run(m.name, func(t *testing.T) {
			// The store as before the upgrade.
			if _, err := pool.Exec(ctx, "DROP INDEX "+m.name); err != nil {
				t.Fatal(err)
			}
			if m.file == "0021_every_tenant.sql" {
				if _, err := pool.Exec(ctx, "DROP INDEX events_by_action_all, events_by_actor_all"); err != nil {
					t.Fatal(err)
				}
			}
			if m.def == "" {
				m.def = m.cols
			}
			rows, err := pool.Query(ctx, "SELECT format('CREATE INDEX CONCURRENTLY IF NOT EXISTS %I ON %I (%s)', "+
				"c.relname || '"+m.suffix+"', c.relname, $2::text) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "+
				"WHERE i.inhparent = $1::regclass ORDER BY c.relname", m.table, m.cols)
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
			err = pool.QueryRow(ctx, "SELECT count(*) FROM pg_indexes WHERE tablename LIKE $3 || '_p%' "+
				"AND indexdef LIKE '%(' || $1 || ')' AND indexname NOT LIKE '%' || $2", m.def, m.suffix, m.table).Scan(&others)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := []int{prebuilt, attached, others}, []int{len(stmts), len(stmts), 0}; !valid || !slices.Equal(got, want) {
				t.Errorf("prebuilt, attached, built by the migration = %v, want %v; valid = %v", got, want, valid)
			}
		})
	}
}
