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
}

var defaultSegments = segConfig{shift: 12, fanout: 8, chunk: 20000}

// mergedSegBase is the first id of merged segments, above every level-0 id.
const mergedSegBase = 1 << 52

// Posting key kinds: the prefix of postings.k.
const (
	kindActor  = "a:"
	kindAction = "c:"
	kindTarget = "t:"
)

// postingKeys returns the keys under which e is found: its actor, its
// action and each distinct target.
func postingKeys(e *trail.Event) []string {
	keys := []string{kindActor + e.Actor.ID, kindAction + e.Action}
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
func postingsTable(seg int64) string { return fmt.Sprintf("postings_%d", seg) }

// createSegment creates the table of segment seg and records it, unless
// it exists.
func createSegment(ctx context.Context, tx *sql.Tx, seg int64, level int, first, last int64, state string) error {
	_, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+postingsTable(seg)+` (
		k TEXT NOT NULL, t INTEGER NOT NULL, id TEXT NOT NULL, tenant TEXT NOT NULL, pos INTEGER NOT NULL,
		PRIMARY KEY (k, t, id)) WITHOUT ROWID`)
	if err != nil {
		return fmt.Errorf("create segment: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT OR IGNORE INTO segments (seg, level, first_pos, last_pos, state)
		VALUES (?, ?, ?, ?, ?)`, seg, level, first, last, state)
	if err != nil {
		return fmt.Errorf("create segment: %w", err)
	}
	return nil
}

// registerSegment creates level-0 segment seg, visible at once, unless it
// exists.
func (db *DB) registerSegment(ctx context.Context, tx *sql.Tx, seg int64) error {
	first := seg << db.segments.shift
	return createSegment(ctx, tx, seg, 0, first, first+(1<<db.segments.shift)-1, "ready")
}

// visibleSegments lists the segments a query reads.
func visibleSegments(ctx context.Context, tx *sql.Tx) ([]int64, error) {
	return segmentList(ctx, tx, "SELECT seg FROM segments WHERE state = 'ready' ORDER BY seg")
}

// deletePostings removes the postings of events, which the caller deletes
// in the same transaction (retention). An event's postings live in
// whichever segments cover its position: one, or two while a merge copies
// them.
func deletePostings(ctx context.Context, tx *sql.Tx, events []*trail.Event) error {
	for _, e := range events {
		segs, err := segmentList(ctx, tx, "SELECT seg FROM segments WHERE ? BETWEEN first_pos AND last_pos", e.Pos)
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
