package postgres_test

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/trailhq/trail/internal/pgtest"
)

// TestPrebuiltIndexes follows docs/operations.md (Building an index before
// an upgrade): with each partition's index of migrations 16, 18, 20, 21 and 26
// built beforehand with CREATE INDEX CONCURRENTLY, the migration's
// statement attaches them to the partitioned index instead of building its
// own, and the index is valid.
func TestPrebuiltIndexes(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t, pgtest.NewDB(t))
	fillSkewed(t, db, 1_000, skewTenant)
	pool := db.Pool()
	for _, m := range []struct {
		file    string
		indexes []prebuilt
		others  string // the migration's other indexes, dropped and built again by it
	}{
		{file: "0016_actor_action.sql", indexes: []prebuilt{{table: "events", name: "events_by_actor_action",
			def: "(tenant, actor_id, action, occurred_at, id)", suffix: "_by_actor_action"}}},
		{file: "0018_action_actor.sql", indexes: []prebuilt{{table: "events", name: "events_by_action_actor",
			def: "(tenant, action, actor_id, occurred_at, id)", suffix: "_by_action_actor"}}},
		{file: "0020_search.sql", indexes: []prebuilt{
			{table: "events", name: "events_search", def: "USING gin (search)", suffix: "_search"},
			{table: "events", name: "events_unsearched", def: "(occurred_at) WHERE (search IS NULL)", suffix: "_unsearched"}}},
		{file: "0026_search_pairs.sql", indexes: []prebuilt{
			{table: "events", name: "events_unpaired", def: "(occurred_at) WHERE (search_pairs IS NULL)", suffix: "_unpaired"}}},
		{file: "0021_every_tenant.sql", others: "events_by_action_all, events_by_actor_all",
			indexes: []prebuilt{{table: "event_targets", name: "event_targets_by_target_all",
				def: "((id || ''), type, occurred_at, event_id)", shown: "((id || ''::text)), type, occurred_at, event_id)",
				suffix: "_by_target_all"}}},
	} {
		t.Run(m.file, func(t *testing.T) {
			// The store as before the upgrade.
			for _, ix := range m.indexes {
				if _, err := pool.Exec(ctx, "DROP INDEX "+ix.name); err != nil {
					t.Fatal(err)
				}
			}
			if m.others != "" {
				if _, err := pool.Exec(ctx, "DROP INDEX "+m.others); err != nil {
					t.Fatal(err)
				}
			}
			n := make([]int, len(m.indexes))
			for i, ix := range m.indexes {
				n[i] = ix.build(t, pool)
			}
			migration, err := os.ReadFile("migrations/" + m.file)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := pool.Exec(ctx, string(migration)); err != nil {
				t.Fatal(err)
			}
			for i, ix := range m.indexes {
				ix.check(t, pool, n[i])
			}
		})
	}
}

// prebuilt is an index, as docs/operations.md builds it before an
// upgrade: its table, name, definition (and the end of it as pg_indexes
// shows it, when that differs) and the suffix of the partitions' index
// names.
type prebuilt struct{ table, name, def, shown, suffix string }

// build creates the index on each partition of its table, concurrently,
// and returns how many it created.
func (ix prebuilt) build(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	ctx := context.Background()
	rows, err := pool.Query(ctx, "SELECT format('CREATE INDEX CONCURRENTLY IF NOT EXISTS %I ON %I %s', "+
		"c.relname || $3::text, c.relname, $2::text) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "+
		"WHERE i.inhparent = $1::regclass ORDER BY c.relname", ix.table, ix.def, ix.suffix)
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
	return len(stmts)
}

// check fails t unless the index on events is valid and has the n
// prebuilt indexes of the partitions attached, and no other of its
// definition.
func (ix prebuilt) check(t *testing.T, pool *pgxpool.Pool, n int) {
	t.Helper()
	ctx := context.Background()
	var prebuilt, attached, others int
	var valid bool
	err := pool.QueryRow(ctx, "SELECT count(*) FILTER (WHERE c.relname LIKE '%' || $2), count(*), "+
		"(SELECT indisvalid FROM pg_index WHERE indexrelid = $1::regclass) "+
		"FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass",
		ix.name, ix.suffix).Scan(&prebuilt, &attached, &valid)
	if err != nil {
		t.Fatal(err)
	}
	shown := ix.shown
	if shown == "" {
		shown = ix.def
	}
	err = pool.QueryRow(ctx, "SELECT count(*) FROM pg_indexes WHERE tablename LIKE $3 || '_p%' "+
		"AND indexdef LIKE '%' || $1 AND indexname NOT LIKE '%' || $2", shown, ix.suffix, ix.table).Scan(&others)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := []int{prebuilt, attached, others}, []int{n, n, 0}; !valid || !slices.Equal(got, want) {
		t.Errorf("%s: prebuilt, attached, built by the migration = %v, want %v; valid = %v", ix.name, got, want, valid)
	}
}
