package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// Postings live in a second SQLite file beside the store's, path + ".index",
// with a write lock of its own: the indexer and the merger write it on
// their own connection (db.iw) while commits write the events file, so a
// commit never waits behind index work, and index work never counts in the
// serial part of ingest. Connections that read postings attach the file
// as schema "ix"; the commit connection does not attach it at all.
//
// The index file holds only what the events file can rebuild: the posting
// segments (ix.segments, ix.postings_N) and ix.meta, which names the store
// it indexes, the last position indexed (the cursor, moved in the same
// transaction as the postings it covers) and how many deletions of events
// (retention, the operator log's sort) it has applied. A missing file is
// created empty, and one that does not match the events file (another
// store's, or one newer than a restored backup) is emptied: the indexer
// then indexes every event again, and queries meanwhile read them from the
// unindexed tail, exact but slower.
//
// An index file written by a release whose postings had fewer kinds is
// emptied the same way: its version (the file's user_version) is below
// indexVersion.
//
// Its commits are synchronous=NORMAL: after a power loss the file may lack
// its last transactions, but WAL keeps each one whole, so postings and
// cursor roll back together and the indexer redoes them.

// indexVersion is the version of the postings' layout. Raise it whenever
// the indexer writes postings that it did not write before: an index file
// of a lower version is then rebuilt, so that every event has them.
// Version 1 added the sort kinds (actor name, first target's type and id).
const indexVersion = 1

// indexPath returns the index file of the store at path.
func indexPath(path string) string { return path + ".index" }

// attachIndex returns the statements that attach the index file to a
// connection as schema ix, with a page cache of cacheKiB.
func attachIndex(path string, cacheKiB int) []string {
	return []string{
		"ATTACH DATABASE '" + strings.ReplaceAll(indexPath(path), "'", "''") + "' AS ix",
		fmt.Sprintf("PRAGMA ix.cache_size = -%d", cacheKiB),
	}
}

// indexSchema creates the index file's tables. Older releases kept postings
// in the events file; dropOldPostings removes them there.
var indexSchema = []string{
	"PRAGMA ix.journal_mode = WAL",
	`CREATE TABLE IF NOT EXISTS ix.meta (
		one       INTEGER PRIMARY KEY CHECK (one = 1),
		store     TEXT    NOT NULL,
		indexed   INTEGER NOT NULL,
		deletions INTEGER NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS ix.segments (
		seg        INTEGER PRIMARY KEY,
		level      INTEGER NOT NULL,
		first_pos  INTEGER NOT NULL,
		last_pos   INTEGER NOT NULL,
		min_t      INTEGER NOT NULL,
		max_t      INTEGER NOT NULL,
		state      TEXT    NOT NULL,
		merge_into INTEGER)`,
}

// openIndex opens the index writer's connection and makes the index file
// match the events file (see above).
func (db *DB) openIndex(ctx context.Context) error {
	if err := createPrivate(indexPath(db.path)); err != nil {
		return err
	}
	pragmas := append(attachIndex(db.path, 65536), "PRAGMA ix.synchronous = NORMAL")
	iw := sql.OpenDB(newConnector(dsn(db.path, false, "deferred"), pragmas...))
	iw.SetMaxOpenConns(1)
	iw.SetMaxIdleConns(1)
	iw.SetConnMaxLifetime(0)
	iw.SetConnMaxIdleTime(0)
	db.iw = iw
	for _, s := range indexSchema {
		if _, err := iw.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("index file: %w", err)
		}
	}
	return db.bindIndex(ctx)
}

// bindIndex checks that the index file indexes this events file, and
// empties it if not. The index file is read first: it never runs ahead
// of the events file, which is read after it.
func (db *DB) bindIndex(ctx context.Context) error {
	tx, err := db.iw.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer rollback(tx)
	var ix struct {
		store              string
		indexed, deletions int64
	}
	err = tx.QueryRowContext(ctx, "SELECT store, indexed, deletions FROM ix.meta").Scan(&ix.store, &ix.indexed, &ix.deletions)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("index file: %w", err)
	}
	found := err == nil
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA ix.user_version").Scan(&version); err != nil {
		return fmt.Errorf("index file: %w", err)
	}
	var store string
	var next, deletions int64
	err = tx.QueryRowContext(ctx, "SELECT m.id, m.deletions, p.next_pos FROM store_meta m, stream_pos p").
		Scan(&store, &deletions, &next)
	if err != nil {
		return fmt.Errorf("index file: %w", err)
	}
	if found && version == indexVersion && ix.store == store && ix.indexed < next && ix.deletions <= deletions {
		return nil
	}
	if err := resetIndex(ctx, tx, store, deletions); err != nil {
		return fmt.Errorf("index file: %w", err)
	}
	return tx.Commit()
}

// resetIndex empties the index file and points it at the store, from
// position 0.
func resetIndex(ctx context.Context, tx *sql.Tx, store string, deletions int64) error {
	names, err := column[string](ctx, tx, "SELECT name FROM ix.sqlite_schema WHERE type = 'table' AND name GLOB 'postings_*'")
	if err != nil {
		return err
	}
	for _, n := range names {
		if _, err := tx.ExecContext(ctx, "DROP TABLE ix."+n); err != nil {
			return err
		}
	}
	for _, s := range []string{"DELETE FROM ix.segments", "DELETE FROM ix.meta"} {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, "INSERT INTO ix.meta (one, store, indexed, deletions) VALUES (1, ?, 0, ?)", store, deletions)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, fmt.Sprintf("PRAGMA ix.user_version = %d", indexVersion))
	return err
}

// dropOldPostings drops the postings that older releases kept in the
// events file, one table a transaction.
func (db *DB) dropOldPostings(ctx context.Context) error {
	names, err := column[string](ctx, db.w, `SELECT name FROM main.sqlite_schema WHERE type = 'table'
		AND (name GLOB 'postings_*' OR name = 'segments') ORDER BY name = 'segments'`)
	if err != nil {
		return fmt.Errorf("drop old postings: %w", err)
	}
	for _, n := range names {
		if _, err := db.w.ExecContext(ctx, "DROP TABLE main."+n); err != nil {
			return fmt.Errorf("drop old postings: %w", err)
		}
	}
	return nil
}

// noteDeletions records in the events file, in the transaction that
// deletes events, that their postings are to go.
func noteDeletions(ctx context.Context, tx *sql.Tx) (int64, error) {
	var n int64
	err := tx.QueryRowContext(ctx, "UPDATE store_meta SET deletions = deletions + 1 RETURNING deletions").Scan(&n)
	return n, err
}
