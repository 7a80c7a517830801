package postgres_test

import (
	"testing"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/pgtest"
	"github.com/trailhq/trail/postgres"
	"github.com/trailhq/trail/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// MustOpen opens a store on a fresh database and closes it when tb ends.
func MustOpen(tb testing.TB, dsn string) *postgres.DB {
	tb.Helper()
	db, err := postgres.Open(dsn)
	if err != nil {
		tb.Fatalf("open postgres store: %v", err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("close postgres store: %v", err)
		}
	})
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) trail.Store { return MustOpen(t, pgtest.NewDB(t)) })
}

// TestStoreSearchPaths runs the search suite with each way a search reads
// forced: every search through the GIN index (reading a few keys at a
// time, so pages continue over several chunks), every search walking the
// page's own index with the words checked on each row, and a walk of three
// rows before either. TestStore runs it with the default walk.
func TestStoreSearchPaths(t *testing.T) {
	for _, c := range []struct {
		name       string
		walk, keys int
	}{{"GIN", 0, 5}, {"Walk", -1, 0}, {"WalkThenRead", 3, 2}} {
		t.Run(c.name, func(t *testing.T) {
			storetest.RunSearch(t, func(t *testing.T) trail.Store {
				db := MustOpen(t, pgtest.NewDB(t))
				db.SetSearchWalk(c.walk)
				if c.keys > 0 {
					db.SetSearchKeyLimit(c.keys)
				}
				return db
			})
		})
	}
}
