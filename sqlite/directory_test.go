package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/trailhq/trail/sqlite"
	"github.com/trailhq/trail/storetest"
)

// TestDirectoryBackfill checks that migration 25 fills the directory from
// the events stored before it.
func TestDirectoryBackfill(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trail.db")
	db := mustOpen(t, path)
	storetest.SeedDirectory(t, db)
	db.Close()
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = raw.Exec(`DROP TABLE event_actors; DROP TABLE event_target_types;
		DELETE FROM schema_migrations WHERE version = 25`)
	raw.Close()
	if err != nil {
		t.Fatal(err)
	}
	db, err = sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.CheckDirectory(t, db)
}
