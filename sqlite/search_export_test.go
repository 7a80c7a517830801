package sqlite

import "context"

// OpenSearchIndexOnly opens a store whose searches skip the first short
// scan and go to the search index and the unindexed tail at once (or scan
// only where the index cannot narrow), with a cap of sorted candidates so
// low that pages in action or actor order fall back to scanning.
func OpenSearchIndexOnly(path string, maxSorted int) (*DB, error) {
	cfg := defaultSegments
	cfg.searchScanFirst, cfg.searchMaxSorted = -1, maxSorted
	return open(path, cfg)
}

// SearchIndexStep runs one step of the search index's follower and
// returns how many events it indexed.
func (db *DB) SearchIndexStep(ctx context.Context) (int, error) { return db.searchStep(ctx) }

// SearchCursor returns the last position the search index covers.
func (db *DB) SearchCursor(ctx context.Context) (int64, error) { return searchCursor(ctx, db.search.r) }
