package sqlite

import (
	"context"
	"database/sql"
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

// checkpointLoop checkpoints after commits. A failed checkpoint is retried
// after the next commit; until then the WAL only grows.
func (db *DB) checkpointLoop(ctx context.Context) {
	defer close(db.ckptDone)
	for {
		select {
		case <-ctx.Done():
			return
		case <-db.ckptWake:
		}
		var busy, log, done int
		_ = db.ckpt.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &log, &done)
	}
}
