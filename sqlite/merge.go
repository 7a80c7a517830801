package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"
)

// The merger keeps the number of posting segments small, and first lets the
// indexer (indexer.go) write the postings of new events. After commits it
// runs index and merge steps, each one short write transaction, so ingest
// waits at most one step: start a merge of the oldest sealed segments of the lowest
// level that has fanout of them, copy the next chunk of their
// postings (in key order, so the new segment is written sequentially),
// publish the new segment and retire its sources in one transaction, then
// drop the retired segments' tables. All state lives in the
// segments table, so any process that opens the file can continue the work.

func (db *DB) startMerger() {
	ctx, cancel := context.WithCancel(context.Background())
	db.mergeWake, db.mergeStop, db.mergeDone = make(chan struct{}, 1), cancel, make(chan struct{})
	go db.mergeLoop(ctx)
	db.wakeMerger()
}

// wakeMerger asks the merger to look for work, without waiting.
func (db *DB) wakeMerger() {
	select {
	case db.mergeWake <- struct{}{}:
	default:
	}
}

func (db *DB) stopMerger() {
	db.mergeStop()
	<-db.mergeDone
}

// mergeLoop runs index and merge steps until there is no work, then waits
// for the next commit. Index steps are at least indexGap apart unless a
// full batch waits (each is an fsync); merge steps in between run back to
// back, each its own short transaction that a commit waits behind at most
// once, so that the segments a burst leaves are merged as fast as the
// box allows, not one step per indexGap. A failed step (another process
// holding the write lock past the busy timeout) is retried after the next
// commit; merging only keeps queries fast and never changes what they
// return, and events not yet indexed are found in the tail.
func (db *DB) mergeLoop(ctx context.Context) {
	defer close(db.mergeDone)
	var last time.Time // when the last index step ended
	for {
		select {
		case <-ctx.Done():
			return
		case <-db.mergeWake:
		}
		for ctx.Err() == nil {
			paced := time.Since(last) < indexGap && db.fresh.pending() < indexBatch
			indexed := false
			if !paced {
				var err error
				if indexed, err = db.indexStep(ctx); err != nil {
					break
				}
				last = time.Now()
			}
			merged, err := db.mergeStep(ctx)
			switch {
			case err != nil:
			case merged || indexed:
				continue
			case paced:
				// Nothing to merge, and the indexer waits for its gap.
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Until(last.Add(indexGap))): // pacing fsyncs, not synchronizing
				}
				continue
			}
			break
		}
	}
}

// mergeStep does one transaction of merge work and reports whether there
// was any.
func (db *DB) mergeStep(ctx context.Context) (bool, error) {
	tx, err := db.iw.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer db.busySince(time.Now())
	defer rollback(tx)
	var seg int64
	var state string
	err = tx.QueryRowContext(ctx, `SELECT seg, state FROM ix.segments WHERE state IN ('dead', 'building')
		ORDER BY state = 'building', seg LIMIT 1`).Scan(&seg, &state)
	switch {
	case err == sql.ErrNoRows:
		var started bool
		if started, err = db.startMerge(ctx, tx); !started || err != nil {
			return false, err
		}
	case err != nil:
		return false, err
	case state == "dead":
		err = dropSegment(ctx, tx, seg)
	default:
		err = copyChunk(ctx, tx, seg, db.segments.chunk)
	}
	if err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// startMerge picks the oldest fanout sealed segments of the lowest level
// that has that many, and creates the segment they merge into. A level-0
// segment is sealed once the indexer has passed its last position.
func (db *DB) startMerge(ctx context.Context, tx *sql.Tx) (bool, error) {
	indexed, err := indexedPos(ctx, tx)
	if err != nil {
		return false, err
	}
	next := indexed + 1
	rows, err := tx.QueryContext(ctx, `SELECT seg, level, first_pos, last_pos, min_t, max_t FROM ix.segments
		WHERE state = 'ready' AND NOT (level = 0 AND seg >= ?) ORDER BY level, first_pos`, db.segmentOf(next))
	if err != nil {
		return false, err
	}
	sealed, err := scanSegments(rows, -1)
	if err != nil {
		return false, err
	}
	for i := 0; i+db.segments.fanout <= len(sealed); i++ {
		group := sealed[i : i+db.segments.fanout]
		if group[0].level == group[len(group)-1].level {
			return true, createMerge(ctx, tx, group)
		}
	}
	return false, nil
}

// createMerge creates the building segment that group merges into.
func createMerge(ctx context.Context, tx *sql.Tx, group []segment) error {
	t := segment{level: group[0].level + 1}
	err := tx.QueryRowContext(ctx, "SELECT max(coalesce(max(seg) + 1, 0), ?) FROM ix.segments", int64(mergedSegBase)).Scan(&t.seg)
	if err != nil {
		return err
	}
	t.first, t.last, t.minT, t.maxT = group[0].first, group[0].last, group[0].minT, group[0].maxT
	ids := make([]any, len(group))
	for i, s := range group {
		t.first, t.last, ids[i] = min(t.first, s.first), max(t.last, s.last), s.seg
		t.minT, t.maxT = min(t.minT, s.minT), max(t.maxT, s.maxT)
	}
	if err := createSegment(ctx, tx, t, "building"); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, "UPDATE ix.segments SET merge_into = ? WHERE seg IN ("+placeholders(len(ids))+")",
		append([]any{t.seg}, ids...)...)
	return err
}

// copyChunk copies the next chunk postings of target's sources into
// target, merged in key order, and publishes target once all are copied.
func copyChunk(ctx context.Context, tx *sql.Tx, target int64, chunk int) error {
	sources, err := column[int64](ctx, tx, "SELECT seg FROM ix.segments WHERE merge_into = ? ORDER BY seg", target)
	if err != nil {
		return err
	}
	var after []any // the last key copied so far
	var k, id string
	var t int64
	err = tx.QueryRowContext(ctx, "SELECT k, t, id FROM "+postingsTable(target)+
		" ORDER BY k DESC, t DESC, id DESC LIMIT 1").Scan(&k, &t, &id)
	switch {
	case err == nil:
		after = []any{k, t, id}
	case err != sql.ErrNoRows:
		return err
	}
	query, args := copySQL(target, sources, after, chunk)
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == int64(chunk) {
		return err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE ix.segments SET state = 'ready' WHERE seg = ?", target); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, "UPDATE ix.segments SET state = 'dead', merge_into = NULL WHERE merge_into = ?", target)
	return err
}

// copySQL merges the sources' postings after key after (all when nil) in
// key order, as a page query does, and inserts the first chunk into target.
func copySQL(target int64, sources []int64, after []any, chunk int) (string, []any) {
	var args []any
	arms := make([]string, len(sources))
	for i, s := range sources {
		arms[i] = "SELECT k, t, id, tenant, pos FROM " + postingsTable(s)
		if after != nil {
			arms[i] += " WHERE (k, t, id) > (?, ?, ?)"
			args = append(args, after...)
		}
	}
	return "INSERT INTO " + postingsTable(target) + " (k, t, id, tenant, pos) " +
		strings.Join(arms, " UNION ALL ") + " ORDER BY k, t, id LIMIT ?", append(args, chunk)
}

// dropSegment drops a retired segment's table, in one piece: SQLite frees
// its pages without visiting its rows.
func dropSegment(ctx context.Context, tx *sql.Tx, seg int64) error {
	if _, err := tx.ExecContext(ctx, "DROP TABLE IF EXISTS "+postingsTable(seg)); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, "DELETE FROM ix.segments WHERE seg = ?", seg)
	return err
}

// column returns the one column of query's rows.
func column[T any](ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
