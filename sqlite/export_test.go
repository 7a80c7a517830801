package sqlite

import "context"

// OpenSegmented opens a store whose posting segments cover 1<<shift
// positions and merge fanout at a time, chunk postings a transaction, so
// tests reach many segments and merge steps with few events.
func OpenSegmented(path string, shift uint, fanout, chunk int) (*DB, error) {
	return open(path, segConfig{shift: shift, fanout: fanout, chunk: chunk})
}

// OpenUnindexed opens a store whose indexer never runs, so that every
// query finds events in the unindexed tail.
func OpenUnindexed(path string) (*DB, error) {
	cfg := defaultSegments
	cfg.noIndex = true
	return open(path, cfg)
}

// MergeAll runs index and merge steps until none is left.
func (db *DB) MergeAll(ctx context.Context) error {
	for {
		did, err := db.indexStep(ctx)
		if err == nil && !did {
			did, err = db.mergeStep(ctx)
		}
		if err != nil || !did {
			return err
		}
	}
}

// SegmentLevels counts the visible posting segments by level.
func (db *DB) SegmentLevels(ctx context.Context) (map[int]int, error) {
	rows, err := db.r.QueryContext(ctx, "SELECT level, count(*) FROM ix.segments WHERE state = 'ready' GROUP BY level")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	levels := map[int]int{}
	for rows.Next() {
		var level, n int
		if err := rows.Scan(&level, &n); err != nil {
			return nil, err
		}
		levels[level] = n
	}
	return levels, rows.Err()
}

// IndexedPos returns the last position the indexer has written postings
// for.
func (db *DB) IndexedPos(ctx context.Context) (int64, error) {
	tx, err := db.r.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer rollback(tx)
	return indexedPos(ctx, tx)
}
