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
