package sqlite_test

import (
	"context"
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

// TestConformanceSearchIndex runs the search suite on stores whose
// searches go to the search index at once: while the index follows the
// appends (events in the index and in the unindexed tail), and with every
// event indexed before the next call. Pages in action or actor order
// sort at most 20 candidates, so larger ones fall back to scanning.
func TestConformanceSearchIndex(t *testing.T) {
	open := func(t *testing.T) *sqlite.DB {
		db, err := sqlite.OpenSearchIndexOnly(filepath.Join(t.TempDir(), "trail.db"), 20)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	t.Run("Following", func(t *testing.T) {
		storetest.RunSearch(t, func(t *testing.T) trail.Store { return open(t) })
	})
	t.Run("Indexed", func(t *testing.T) {
		storetest.RunSearch(t, func(t *testing.T) trail.Store { return indexedStore{open(t)} })
	})
}

// indexedStore indexes every batch it appends before it returns.
type indexedStore struct{ *sqlite.DB }

func (s indexedStore) AppendBatches(ctx context.Context, batches []*trail.Batch) error {
	if err := s.DB.AppendBatches(ctx, batches); err != nil {
		return err
	}
	for {
		n, err := s.SearchIndexStep(ctx)
		if err != nil || n == 0 {
			return err
		}
	}
}
