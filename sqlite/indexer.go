package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/trailhq/trail"
)

// The indexer writes postings after the commit instead of inside it: a
// commit stores the event row (and its time and ledger indexes) and nothing
// else, so that the serial part of ingest, and what a single event waits
// behind, stays short. It follows the stream like any other reader: it reads
// the events after its cursor (ix.meta.indexed) outside any write lock,
// decodes them and builds their postings, then writes them and moves the
// cursor in one short write transaction of the index file (indexfile.go),
// checking first that no one else (another process, retention) changed
// those events meanwhile.
// Queries read the events past the cursor, the unindexed tail, straight from
// the events table (see tailArms), so an acknowledged event is findable by
// every filter at once.

// One indexing transaction covers up to indexBatch events read from the
// table, or maxIndexBatch handed over in memory: a burst's commits (16
// clients' batches of 100) are bigger than indexBatch, and alternate with
// index steps, which would then fall behind. Either way a commit waits
// behind at most one short transaction.
const (
	indexBatch    = 1000
	maxIndexBatch = 2000
)

// indexGap is the least time between two indexing transactions while
// fewer than indexBatch events wait, so that single events do not each
// cost a transaction. Queries read the events it leaves for later from the
// tail, which every page sorts: the gap is short now that index
// transactions end without an fsync (the index file's synchronous=NORMAL);
// it was 100 ms while each one did.
const indexGap = 25 * time.Millisecond

// maxFresh bounds the events the commits of this process hand to the
// indexer in memory; past it they are dropped and read back from the
// table.
const maxFresh = 50000

// toIndex is what the indexer needs of an event: where it is, and its
// postings' keys.
type toIndex struct {
	pos        int64
	id, tenant string
	at         int64
	keys       []string
}

func newToIndex(e *trail.Event) toIndex {
	return toIndex{pos: e.Pos, id: e.ID, tenant: e.Tenant, at: e.OccurredAt.UnixMicro(), keys: postingKeys(e)}
}

// freshEvents holds the events this process committed, in position order,
// so that the indexer does not read and decode them again.
type freshEvents struct {
	mu  sync.Mutex
	evs []toIndex
}

// add hands over the events of a commit, after it.
func (f *freshEvents) add(batches []*trail.Batch, replayed map[*trail.Batch]*trail.IdempotentResponse) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, b := range batches {
		if replayed[b] != nil {
			continue
		}
		for _, e := range b.Events {
			f.evs = append(f.evs, newToIndex(e))
		}
	}
	if len(f.evs) > maxFresh {
		f.evs = nil // the indexer reads them from the table
	}
}

// pending returns how many handed-over events wait.
func (f *freshEvents) pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.evs)
}

// after returns up to n events that directly follow cursor, when the
// events handed over hold them without a gap (another process may have
// committed in between), dropping those at or before cursor.
func (f *freshEvents) after(cursor int64, n int) ([]toIndex, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := 0
	for i < len(f.evs) && f.evs[i].pos <= cursor {
		i++
	}
	f.evs = f.evs[i:]
	if len(f.evs) == 0 || f.evs[0].pos != cursor+1 {
		return nil, false
	}
	k := 1
	for k < min(n, len(f.evs)) && f.evs[k].pos == f.evs[k-1].pos+1 {
		k++
	}
	return slices.Clone(f.evs[:k]), true
}

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
	tx, err := db.iw.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer db.busySince(time.Now())
	defer rollback(tx)
	same, err := stillUnindexed(ctx, tx, cursor, evs)
	if err != nil || !same {
		db.fresh.drop()
		return !same, err // read again
	}
	if err := db.addPostings(ctx, tx, evs); err != nil {
		return false, err
	}
	last := evs[len(evs)-1].pos
	if _, err := tx.ExecContext(ctx, "UPDATE ix.meta SET indexed = ?", last); err != nil {
		return false, fmt.Errorf("move postings cursor: %w", err)
	}
	return true, tx.Commit()
}

// drop forgets the handed-over events: some of them are not what the
// table holds (retention deleted them), so the indexer reads the table.
func (f *freshEvents) drop() {
	f.mu.Lock()
	f.evs = nil
	f.mu.Unlock()
}

// busySince adds the time since start to the store's background write time.
func (db *DB) busySince(start time.Time) { db.background.Add(int64(time.Since(start))) }

// WriteTimes returns the time the store has spent inside write
// transactions since it was opened: commits (AppendBatches, from holding
// the write lock to the fsynced commit) with the CPU time they used, and
// background work (indexing and merging, in the index file). Commits are
// the serial part of ingest, which no other core can help with: SQLite has
// one writer per file. Their CPU time leaves out waiting for a core or for
// fsync; on a machine with more cores and a faster disk the wall time
// approaches it.
func (db *DB) WriteTimes() (commits, commitCPU, background time.Duration) {
	return time.Duration(db.commits.Load()), time.Duration(db.commitCPU.Load()), time.Duration(db.background.Load())
}

// unindexed returns the postings cursor and up to indexBatch events after
// it: the ones this process's commits handed over when they follow the
// cursor, else read from the table in one snapshot without the write lock,
// on the indexer's own connection (the read pool stays the queries').
func (db *DB) unindexed(ctx context.Context) (int64, []toIndex, error) {
	tx, err := db.i.BeginTx(ctx, nil)
	if err != nil {
		return 0, nil, err
	}
	defer rollback(tx)
	cursor, err := indexedPos(ctx, tx)
	if err != nil {
		return 0, nil, err
	}
	if evs, ok := db.fresh.after(cursor, maxIndexBatch); ok {
		return cursor, evs, nil
	}
	rows, err := tx.QueryContext(ctx, "SELECT pos, data FROM events WHERE pos > ? ORDER BY pos LIMIT ?", cursor, indexBatch)
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	var evs []toIndex
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
		evs = append(evs, newToIndex(e))
	}
	return cursor, evs, rows.Err()
}

// indexedPos returns the last position whose postings are written.
func indexedPos(ctx context.Context, tx *sql.Tx) (int64, error) {
	var pos int64
	err := tx.QueryRowContext(ctx, "SELECT indexed FROM ix.meta").Scan(&pos)
	if err != nil {
		return 0, fmt.Errorf("read postings cursor: %w", err)
	}
	return pos, nil
}

// stillUnindexed reports whether evs, found after cursor, are still the
// events that follow the cursor: the cursor has not moved (another process
// indexed them) and none of them was deleted (retention). Positions are
// given in commit order, so no event can have appeared among them.
func stillUnindexed(ctx context.Context, tx *sql.Tx, cursor int64, evs []toIndex) (bool, error) {
	now, err := indexedPos(ctx, tx)
	if err != nil || now != cursor {
		return false, err
	}
	var n int
	err = tx.QueryRowContext(ctx, "SELECT count(*) FROM events WHERE pos > ? AND pos <= ?", cursor, evs[len(evs)-1].pos).Scan(&n)
	return n == len(evs), err
}

// addPostings writes the postings of evs into their level-0 segments,
// creating each on its first posting and widening its time bounds.
func (db *DB) addPostings(ctx context.Context, tx *sql.Tx, evs []toIndex) error {
	bufs := map[int64]*rowBuffer{}
	bounds := map[int64]*[2]int64{}
	for _, e := range evs {
		seg := db.segmentOf(e.pos)
		b := bufs[seg]
		if b == nil {
			if err := db.createLiveSegment(ctx, tx, seg, e.at); err != nil {
				return err
			}
			b = newRowBuffer(postingsTable(seg), postingRows, "k", "t", "id", "tenant", "pos")
			bufs[seg], bounds[seg] = b, &[2]int64{e.at, e.at}
		}
		bounds[seg][0], bounds[seg][1] = min(bounds[seg][0], e.at), max(bounds[seg][1], e.at)
		for _, k := range e.keys {
			if err := b.add(ctx, tx, k, e.at, e.id, e.tenant, e.pos); err != nil {
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
