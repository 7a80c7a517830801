package trail

import (
	"context"
	"time"
)

// LedgerTileWidth is how many node hashes one stored ledger tile holds. The
// ledger stores the Merkle tree of each log as tiles: tile (level, index)
// holds the hashes of the nodes at that level with indices from
// index*LedgerTileWidth, in order, so a few rows serve any proof.
const LedgerTileWidth = 256

// LedgerHashSize is the size of every hash in the ledger (SHA-256).
const LedgerHashSize = 32

// LedgerHead is the sealed state of one log: how many of its events the
// ledger has integrated into the log's Merkle tree, and the signed checkpoint
// of that tree.
type LedgerHead struct {
	// Tenant names the log; "" is the log of system events.
	Tenant string
	// Size is the number of leaves integrated: events with Seq < Size.
	Size int64
	// Checkpoint is the signed note (C2SP tlog-checkpoint) for Size.
	Checkpoint []byte
	UpdatedAt  time.Time
}

// LedgerTileID names one tile of a log's tree.
type LedgerTileID struct {
	Level int
	Index int64
}

// LedgerTile is up to LedgerTileWidth node hashes of one level of a log's
// tree, concatenated. A tile grows as the tree grows; a full tile never
// changes.
type LedgerTile struct {
	LedgerTileID
	Hashes []byte
}

// LedgerCommit is one round of integration, stored in one transaction: the
// stream cursor moves from After to Cursor, and the heads and tiles of every
// log that grew are written.
type LedgerCommit struct {
	// After is the cursor the round started from. The commit fails with
	// ECONFLICT when the stored cursor is not After any more, which fences
	// off a sequencer that lost its lease.
	After  int64
	Cursor int64
	Heads  []*LedgerHead
	// Tiles are written whole, replacing a shorter stored tile.
	Tiles map[string][]*LedgerTile
}

// LedgerRow is one stored event of a log as the ledger verifier reads it:
// the Seq that the row is stored under, which tampering may make differ from
// the seq inside the event's JSON.
type LedgerRow struct {
	Seq   int64
	Event *Event
	// Data is the event's JSON exactly as stored, which the leaf hashes;
	// nil when the source only has the decoded event.
	Data []byte
	// Conflict, when not empty, says how the row's other stored copies of
	// the event's fields (columns that queries filter on) disagree with
	// its JSON, e.g. `action column is "user.deleted", the event's action
	// is "user.created"`.
	Conflict string
}

// LedgerEntry is one stored event as the sequencer reads it: its stored
// JSON, which its leaf hashes, and the numbers it is stored under.
type LedgerEntry struct {
	Pos    int64
	Tenant string
	Seq    int64
	Data   []byte
}

// PrunedRange records that retention deleted events [From, To) of a log.
// The verifier reports those seqs as pruned, with the checkpoint that
// covered them, and never as missing.
type PrunedRange struct {
	Tenant string
	From   int64
	To     int64
	// Checkpoint is the log's signed checkpoint when the range was pruned;
	// its size is at least To.
	Checkpoint []byte
	PrunedAt   time.Time
}

// LedgerStore is what the ledger needs from a store beyond EventStore.
type LedgerStore interface {
	// LedgerCursor returns the stream position (Pos) up to which events are
	// integrated: 0 before the first round.
	LedgerCursor(ctx context.Context) (int64, error)

	// LedgerStream returns up to limit stored events with Pos > after, in
	// Pos order, as stored: StreamEvents without decoding, since the leaf
	// hashes the stored JSON.
	LedgerStream(ctx context.Context, after int64, limit int) ([]LedgerEntry, error)

	// LedgerHead returns the head of tenant's log, or ENOTFOUND when no
	// event of it has been integrated yet.
	LedgerHead(ctx context.Context, tenant string) (*LedgerHead, error)

	// LedgerHeads returns the head of every log, ordered by tenant.
	LedgerHeads(ctx context.Context) ([]*LedgerHead, error)

	// LedgerTiles returns the stored tiles among ids of tenant's log; tiles
	// that do not exist are left out.
	LedgerTiles(ctx context.Context, tenant string, ids []LedgerTileID) ([]*LedgerTile, error)

	// CommitLedger stores one round of integration atomically. It returns
	// ECONFLICT, changing nothing, when the stored cursor is not c.After.
	CommitLedger(ctx context.Context, c *LedgerCommit) error

	// LedgerRows returns up to limit stored events of tenant's log with a
	// stored seq >= from, ordered by stored seq, each with that seq. Unlike
	// LogEvents it shows rows exactly as stored, duplicates included.
	LedgerRows(ctx context.Context, tenant string, from int64, limit int) ([]LedgerRow, error)

	// LogSize returns how many events tenant's log has been given: the next
	// Seq it will assign. Retention does not lower it.
	LogSize(ctx context.Context, tenant string) (int64, error)

	// RecordPruned records, before retention deletes them, that the events
	// with Seq < before of tenant's log are being pruned, with the head
	// checkpoint that covers them. before is lowered to the head's size,
	// since only sealed events may be pruned. It returns the log's latest
	// pruned range, new or recorded earlier (nil when nothing was ever
	// prunable): retention may then delete events with Seq < its To, and
	// resumes there after a crash. Only retention calls it.
	RecordPruned(ctx context.Context, tenant string, before int64, at time.Time) (*PrunedRange, error)

	// PrunedRanges returns the pruned ranges of tenant's log, in order.
	PrunedRanges(ctx context.Context, tenant string) ([]*PrunedRange, error)

	OperatorSort
}

// MovedEvent records that a sealed event of one log was moved to another:
// the event sealed at Seq of Tenant's log is now stored at ToSeq of
// ToTenant's log, identical but for its tenant and seq. The verifier checks
// a moved seq by restoring those two members of the event stored at the
// destination and comparing its leaf with the one sealed at Seq.
//
// The one move Trail makes is the upgrade that gave its operator a log of
// its own: Trail's own records of operator activity, which earlier releases
// kept in the system log, move to the operator log (SortOperatorLog).
type MovedEvent struct {
	Tenant   string
	Seq      int64
	ToTenant string
	ToSeq    int64
	MovedAt  time.Time
}

// OperatorSort is what the store offers for the one-time move of Trail's
// own operator records out of the system log (see MovedEvent).
type OperatorSort interface {
	// SortOperatorLog moves, in one transaction, up to limit events of the
	// system log that are Trail's own records (OwnRecord), that were
	// stored before the store was upgraded to the operator log, and whose
	// seqs are sealed (below the system log's head size), to the end of
	// the operator log, recording each move. It reports how many it moved
	// and whether nothing is left to move: done stays false while an
	// event stored before the upgrade is not sealed yet.
	SortOperatorLog(ctx context.Context, limit int) (moved int, done bool, err error)

	// MovedEvents returns the recorded moves out of tenant's log, by seq.
	MovedEvents(ctx context.Context, tenant string) ([]*MovedEvent, error)
}
