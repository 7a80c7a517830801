package postgres_test

import (
	"testing"

	"github.com/trailhq/trail/internal/pgtest"
	"github.com/trailhq/trail/storetest"
)

// TestDirectoryBackfill checks that migration 25 fills the directory from
// the events stored before it.
func TestDirectoryBackfill(t *testing.T) {
	dsn := pgtest.NewDB(t)
	db := MustOpen(t, dsn)
	storetest.SeedDirectory(t, db)
	_, err := db.Pool().Exec(t.Context(), `DROP TABLE event_actors; DROP TABLE event_target_types;
		DELETE FROM schema_migrations WHERE version = 25`)
	if err != nil {
		t.Fatal(err)
	}
	storetest.CheckDirectory(t, MustOpen(t, dsn))
}
