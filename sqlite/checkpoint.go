package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// The checkpointer copies committed WAL frames into the database file on
// its own connection, after commits, so that a commit never waits for a
// checkpoint (SQLite's automatic checkpoint runs inside the commit that
// crosses its threshold, with an extra fsync of the database file). A
// PASSIVE checkpoint never blocks the writer or readers; SQLite starts the
// WAL over once it is fully copied and no reader needs it.

func (db *DB) startCheckpointer() {
	db.ckpt = sql.OpenDB(newConnector(dsn(db.path, false)))
	db.ckpt.SetMaxOpenConns(1)
	ctx, cancel := context.WithCancel(context.Background())
	db.ckptWake, db.ckptStop, db.ckptDone = make(chan struct{}, 1), cancel, make(chan struct{})
	go db.checkpointLoop(ctx)
}

// wakeCheckpointer asks for a checkpoint, without waiting.
func (db *DB) wakeCheckpointer() {
	select {
	case db.ckptWake <- struct{}{}:
	default:
	}
}

func (db *DB) stopCheckpointer() {
	db.ckptStop()
	<-db.ckptDone
	db.ckpt.Close()
}

// checkpointGap is the least time between two checkpoints. Each
// checkpoint writes the pages committed since the last one and fsyncs the
// database file; at a commit every millisecond (single events) that was an
// fsync per commit, and the same hot pages (the tail of the events table
// and of each index) written again every time. Commits that land within a
// gap are checkpointed together at its end.
const checkpointGap = 100 * time.Millisecond

// checkpointLoop checkpoints after commits, at most once a checkpointGap.
// A failed checkpoint is retried after the next commit; until then the
// WAL only grows.
func (db *DB) checkpointLoop(ctx context.Context) {
	defer close(db.ckptDone)
	gap := time.NewTimer(0)
	defer gap.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-db.ckptWake:
		}
		var busy, log, done int
		_ = db.ckpt.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &log, &done)
		gap.Reset(checkpointGap)
		select {
		case <-ctx.Done():
			return
		case <-gap.C:
		}
	}
}
