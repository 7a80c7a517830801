package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/trailhq/trail"
)

// Postings index events by actor, action and target. A b-tree keyed by
// actor (or target) takes each new event at a random leaf, and SQLite
// writes every page a transaction touches to the WAL in full, so such an
// index costs several kilobytes of writes per event. Instead, postings are
// grouped in segments of consecutive positions, one table each: new events
// only touch the small table of the live segment, and sealed segments are
// merged into bigger ones in sorted, sequential passes, the old tables then
// dropped whole (a log-structured merge tree of SQLite tables). A query
// reads each visible segment in order and merges the results. See
// docs/storage.md.

// segConfig sizes posting segments and merges.
type segConfig struct {
	shift  uint // a level-0 segment covers 1<<shift positions
	fanout int  // that many segments of a level merge into one
	chunk  int  // postings copied per merge transaction
	// noIndex stops the indexer, for tests: every query then reads the
	// unindexed tail.
	noIndex bool
	// noSearch keeps no full-text index (Options.NoSearchIndex).
	noSearch bool
	// For tests: events a search scans before it asks the index (-1:
	// none; 0: searchScanFirst), and candidates it sorts (0:
	// searchMaxSorted).
	searchScanFirst, searchMaxSorted int
}

// A merge copies chunk postings a transaction: a commit that comes meanwhile
// waits for one chunk (about 4 ms), no longer.
var defaultSegments = segConfig{shift: 12, fanout: 8, chunk: 4000}

// mergedSegBase is the first id of merged segments, above every level-0 id.
const mergedSegBase = 1 << 52

// Posting key kinds: the prefix of postings.k. The last three only sort:
// every event has one posting of each, its actor's name, its first
// target's type and its first target's id ("" when it has none), so that
// reading a kind's range yields every event in that sort's order.
const (
	kindActor      = "a:"
	kindAction     = "c:"
	kindTarget     = "t:"
	kindActorName  = "n:"
	kindTargetType = "y:"
	kindTargetID   = "i:"
)

// sortKinds maps each sort by a key to the posting kind that holds its
// keys in order.
var sortKinds = map[string]string{
	trail.SortAction:     kindAction,
	trail.SortActor:      kindActor,
	trail.SortActorName:  kindActorName,
	trail.SortTargetType: kindTargetType,
	trail.SortTargetID:   kindTargetID,
}

// postingKeys returns the keys under which e is found: its actor, its
// action and each distinct target, and its sort keys (sortKinds).
func postingKeys(e *trail.Event) []string {
	keys := []string{kindActor + e.Actor.ID, kindAction + e.Action, kindActorName + e.Actor.Name,
		kindTargetType + trail.SortKeyOf(trail.SortTargetType, e), kindTargetID + trail.SortKeyOf(trail.SortTargetID, e)}
	for _, t := range e.Targets {
		if k := targetKey(t.Type, t.ID); !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// targetKey is the posting key of a target. '|' cannot occur in a target
// type, so the key is unambiguous.
func targetKey(typ, id string) string { return kindTarget + typ + "|" + id }

// segmentOf returns the level-0 segment of position pos.
func (db *DB) segmentOf(pos int64) int64 { return pos >> db.segments.shift }

// postingsTable names the table of segment seg.
func postingsTable(seg int64) string { return fmt.Sprintf("ix.postings_%d", seg) }

// segment is a row of the segments table.
type segment struct {
	seg, first, last int64
	minT, maxT       int64
	level            int
}

// createSegment creates the table of segment s and records it, unless it
// exists.
func createSegment(ctx context.Context, tx *sql.Tx, s segment, state string) error {
	_, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+postingsTable(s.seg)+` (
		k TEXT NOT NULL, t INTEGER NOT NULL, id TEXT NOT NULL, tenant TEXT NOT NULL, pos INTEGER NOT NULL,
		PRIMARY KEY (k, t, id)) WITHOUT ROWID`)
	if err != nil {
		return fmt.Errorf("create segment: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT OR IGNORE INTO ix.segments (seg, level, first_pos, last_pos, min_t, max_t, state)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, s.seg, s.level, s.first, s.last, s.minT, s.maxT, state)
	if err != nil {
		return fmt.Errorf("create segment: %w", err)
	}
	return nil
}

// createLiveSegment makes sure level-0 segment seg exists, visible at
// once; t is the occurred_at of its first posting.
func (db *DB) createLiveSegment(ctx context.Context, tx *sql.Tx, seg, t int64) error {
	first := seg << db.segments.shift
	return createSegment(ctx, tx, segment{seg: seg, first: first, last: first + (1 << db.segments.shift) - 1,
		minT: t, maxT: t}, "ready")
}

// widenSegment makes the time bounds of segment seg include [minT, maxT].
func widenSegment(ctx context.Context, tx *sql.Tx, seg, minT, maxT int64) error {
	_, err := tx.ExecContext(ctx, "UPDATE ix.segments SET min_t = min(min_t, ?), max_t = max(max_t, ?) WHERE seg = ?",
		minT, maxT, seg)
	if err != nil {
		return fmt.Errorf("update segment bounds: %w", err)
	}
	return nil
}

// visibleSegments lists the segments a query reads.
func visibleSegments(ctx context.Context, tx *sql.Tx) ([]segment, error) {
	rows, err := tx.QueryContext(ctx, `SELECT seg, level, first_pos, last_pos, min_t, max_t FROM ix.segments
		WHERE state = 'ready' ORDER BY seg`)
	if err != nil {
		return nil, err
	}
	return scanSegments(rows, -1)
}

// scanSegments reads segment rows, up to max of them when max >= 0.
func scanSegments(rows *sql.Rows, max int) ([]segment, error) {
	defer rows.Close()
	var segs []segment
	for (max < 0 || len(segs) < max) && rows.Next() {
		var s segment
		if err := rows.Scan(&s.seg, &s.level, &s.first, &s.last, &s.minT, &s.maxT); err != nil {
			return nil, err
		}
		segs = append(segs, s)
	}
	return segs, rows.Err()
}

// forgetPostings removes the postings of deleted events (gen is the
// deletion count that deleteEventRows returned), in the index file. A
// posting left behind (the process ended first, or this failed) is
// harmless: queries join postings to the events that still exist.
func (db *DB) forgetPostings(ctx context.Context, evs []*trail.Event, gen int64) {
	if len(evs) == 0 {
		return
	}
	tx, err := db.iw.BeginTx(ctx, nil)
	if err != nil {
		return
	}
	defer rollback(tx)
	if deletePostings(ctx, tx, evs) != nil {
		return
	}
	if _, err := tx.ExecContext(ctx, "UPDATE ix.meta SET deletions = max(deletions, ?)", gen); err != nil {
		return
	}
	_ = tx.Commit() // see above: a failure leaves only unreachable postings
}

// deletePostings removes the postings of events in the index file. An
// event's postings live in whichever segments cover its position: one, or
// two while a merge copies them.
func deletePostings(ctx context.Context, tx *sql.Tx, events []*trail.Event) error {
	for _, e := range events {
		segs, err := column[int64](ctx, tx, "SELECT seg FROM ix.segments WHERE ? BETWEEN first_pos AND last_pos", e.Pos)
		if err != nil {
			return fmt.Errorf("delete postings: %w", err)
		}
		for _, seg := range segs {
			for _, k := range postingKeys(e) {
				_, err := tx.ExecContext(ctx, "DELETE FROM "+postingsTable(seg)+" WHERE k = ? AND t = ? AND id = ?",
					k, e.OccurredAt.UnixMicro(), e.ID)
				if err != nil {
					return fmt.Errorf("delete postings of event %s: %w", e.ID, err)
				}
			}
		}
	}
	return nil
}
