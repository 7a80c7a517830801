package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/teststore"
	"github.com/trailhq/trail/sqlite"
	"github.com/trailhq/trail/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) trail.Store { return teststore.SQLite(t) })
}

// TestConformanceTinySegments runs the suite with posting segments of four
// positions merged two at a time, so every query merges many segments while
// the background merger rewrites them.
func TestConformanceTinySegments(t *testing.T) {
	storetest.Run(t, func(t *testing.T) trail.Store {
		db, err := sqlite.OpenSegmented(filepath.Join(t.TempDir(), "trail.db"), 2, 2, 5)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// TestConformanceUnindexed runs the suite on a store whose indexer never
// runs: every filter then finds its events in the unindexed tail, read
// from the events table, as it does for events committed since the
// indexer's last step.
func TestConformanceUnindexed(t *testing.T) {
	storetest.Run(t, func(t *testing.T) trail.Store {
		db, err := sqlite.OpenUnindexed(filepath.Join(t.TempDir(), "trail.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}
