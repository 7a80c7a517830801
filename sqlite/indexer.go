package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/trailhq/trail"
)

// The indexer writes postings after the commit instead of inside it: a
// commit stores the event row (and its time and ledger indexes) and nothing
// else, so that the serial part of ingest, and what a single event waits
// behind, stays short. It follows the stream like any other reader: it reads
// the events after its cursor ("postings" in stream_cursors) outside the
// write lock, decodes them and builds their postings, then writes them and
// moves the cursor in one short write transaction, checking first that no
// one else (another process, retention) changed those events meanwhile.
// Queries read the events past the cursor, the unindexed tail, straight from
// the events table (see tailArms), so an acknowledged event is findable by
// every filter at once.

// postingsCursor names the indexer's cursor in stream_cursors.
const postingsCursor = "postings"

// indexBatch bounds the events one indexing transaction covers, so that a
// commit waits behind at most one short transaction.
const indexBatch = 1000

// indexStep indexes the next events after the cursor and reports whether
// there were any.
func (db *DB) indexStep(ctx context.Context) (bool, error) {
	if db.segments.noIndex {
		return false, nil
	}
	cursor, evs, err := db.unindexed(ctx)
	if err != nil || len(evs) == 0 {
		return false, err
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer db.busySince(time.Now())
	defer rollback(tx)
	same, err := stillUnindexed(ctx, tx, cursor, evs)
	if err != nil || !same {
		return !same, err // read again
	}
	if err := db.addPostings(ctx, tx, evs); err != nil {
		return false, err
	}
	last := evs[len(evs)-1].Pos
	if _, err := tx.ExecContext(ctx, "UPDATE stream_cursors SET pos = ? WHERE name = ?", last, postingsCursor); err != nil {
		return false, fmt.Errorf("move postings cursor: %w", err)
	}
	return true, tx.Commit()
}

// busySince adds the time since start to the store's background write time.
func (db *DB) busySince(start time.Time) { db.background.Add(int64(time.Since(start))) }

// WriteTimes returns the time the store has spent inside write
// transactions since it was opened: commits (AppendBatches, from holding
// the write lock to the fsynced commit) and background work (indexing and
// merging). SQLite has one writer, so together they are the serial part
// of ingest, which no other core can help with.
func (db *DB) WriteTimes() (commits, background time.Duration) {
	return time.Duration(db.commits.Load()), time.Duration(db.background.Load())
}

// unindexed returns the postings cursor and up to indexBatch events after
// it, read in one snapshot without the write lock, on the indexer's own
// connection (the read pool stays the queries').
func (db *DB) unindexed(ctx context.Context) (int64, []*trail.Event, error) {
	tx, err := db.i.BeginTx(ctx, nil)
	if err != nil {
		return 0, nil, err
	}
	defer rollback(tx)
	cursor, err := indexedPos(ctx, tx)
	if err != nil {
		return 0, nil, err
	}
	rows, err := tx.QueryContext(ctx, "SELECT pos, data FROM events WHERE pos > ? ORDER BY pos LIMIT ?", cursor, indexBatch)
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	var evs []*trail.Event
	for rows.Next() {
		var pos int64
		var data []byte
		if err := rows.Scan(&pos, &data); err != nil {
			return 0, nil, err
		}
		e, err := trail.DecodeStored(pos, data)
		if err != nil {
			return 0, nil, fmt.Errorf("index event at pos %d: %w", pos, err)
		}
		evs = append(evs, e)
	}
	return cursor, evs, rows.Err()
}

// indexedPos returns the last position whose postings are written.
func indexedPos(ctx context.Context, tx *sql.Tx) (int64, error) {
	var pos int64
	err := tx.QueryRowContext(ctx, "SELECT pos FROM stream_cursors WHERE name = ?", postingsCursor).Scan(&pos)
	if err != nil {
		return 0, fmt.Errorf("read postings cursor: %w", err)
	}
	return pos, nil
}

// stillUnindexed reports whether evs, read after cursor, are still the
// events that follow the cursor: the cursor has not moved (another process
// indexed them) and none of them was deleted (retention). Positions are
// given in commit order, so no event can have appeared among them.
func stillUnindexed(ctx context.Context, tx *sql.Tx, cursor int64, evs []*trail.Event) (bool, error) {
	now, err := indexedPos(ctx, tx)
	if err != nil || now != cursor {
		return false, err
	}
	var n int
	err = tx.QueryRowContext(ctx, "SELECT count(*) FROM events WHERE pos > ? AND pos <= ?", cursor, evs[len(evs)-1].Pos).Scan(&n)
	return n == len(evs), err
}

// addPostings writes the postings of evs into their level-0 segments,
// creating each on its first posting and widening its time bounds.
func (db *DB) addPostings(ctx context.Context, tx *sql.Tx, evs []*trail.Event) error {
	bufs := map[int64]*rowBuffer{}
	bounds := map[int64]*[2]int64{}
	for _, e := range evs {
		seg, at := db.segmentOf(e.Pos), e.OccurredAt.UnixMicro()
		b := bufs[seg]
		if b == nil {
			if err := db.createLiveSegment(ctx, tx, seg, at); err != nil {
				return err
			}
			b = newRowBuffer(postingsTable(seg), postingRows, "k", "t", "id", "tenant", "pos")
			bufs[seg], bounds[seg] = b, &[2]int64{at, at}
		}
		bounds[seg][0], bounds[seg][1] = min(bounds[seg][0], at), max(bounds[seg][1], at)
		for _, k := range postingKeys(e) {
			if err := b.add(ctx, tx, k, at, e.ID, e.Tenant, e.Pos); err != nil {
				return err
			}
		}
	}
	for seg, b := range bufs {
		if err := b.flush(ctx, tx); err != nil {
			return err
		}
		if err := widenSegment(ctx, tx, seg, bounds[seg][0], bounds[seg][1]); err != nil {
			return err
		}
	}
	return nil
}
