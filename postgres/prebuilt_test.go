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
// an upgrade): with each partition's index of migrations 16, 18 and 20
// built beforehand with CREATE INDEX CONCURRENTLY, the migration's
// statement attaches them to the index on events instead of building its
// own, and the index is valid.
func TestPrebuiltIndexes(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t, pgtest.NewDB(t))
	fillSkewed(t, db, 1_000, skewTenant)
	pool := db.Pool()
	for _, m := range []struct {
		file    string
		indexes []prebuilt
	}{
		{"0016_actor_action.sql", []prebuilt{{"events_by_actor_action", "(tenant, actor_id, action, occurred_at, id)", "_by_actor_action"}}},
		{"0018_action_actor.sql", []prebuilt{{"events_by_action_actor", "(tenant, action, actor_id, occurred_at, id)", "_by_action_actor"}}},
		{"0020_search.sql", []prebuilt{{"events_search", "USING gin (search)", "_search"},
			{"events_unsearched", "(occurred_at) WHERE (search IS NULL)", "_unsearched"}}},
	} {
		t.Run(m.file, func(t *testing.T) {
			// The store as before the upgrade.
			for _, ix := range m.indexes {
				if _, err := pool.Exec(ctx, "DROP INDEX "+ix.name); err != nil {
					t.Fatal(err)
				}
			}
			n := 0
			for _, ix := range m.indexes {
				n = ix.build(t, pool)
			}
			migration, err := os.ReadFile("migrations/" + m.file)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := pool.Exec(ctx, string(migration)); err != nil {
				t.Fatal(err)
			}
			for _, ix := range m.indexes {
				ix.check(t, pool, n)
			}
		})
	}
}

// prebuilt is an index on events, as docs/operations.md builds it before
// an upgrade: its name, definition and the suffix of the partitions'
// index names.
type prebuilt struct{ name, def, suffix string }

// build creates the index on each partition of events, concurrently, and
// returns how many it created.
func (ix prebuilt) build(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	ctx := context.Background()
	rows, err := pool.Query(ctx, "SELECT format('CREATE INDEX CONCURRENTLY IF NOT EXISTS %I ON %I "+ix.def+"', "+
		"c.relname || '"+ix.suffix+"', c.relname) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "+
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
	err = pool.QueryRow(ctx, "SELECT count(*) FROM pg_indexes WHERE tablename LIKE 'events_p%' "+
		"AND indexdef LIKE '%' || $1 AND indexname NOT LIKE '%' || $2", ix.def, ix.suffix).Scan(&others)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := []int{prebuilt, attached, others}, []int{n, n, 0}; !valid || !slices.Equal(got, want) {
		t.Errorf("%s: prebuilt, attached, built by the migration = %v, want %v; valid = %v", ix.name, got, want, valid)
	}
}
