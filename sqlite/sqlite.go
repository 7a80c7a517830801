// Package sqlite is Trail's embedded default store: one SQLite file in WAL
// mode, written through one connection and read through a pool, with
// numbered migrations embedded in the binary. Two files beside it hold
// what can be rebuilt from it, each with a writer of its own off the commit
// path: the postings (indexfile.go) and the full-text index (searchindex.go).
//
// Every commit is fsynced (synchronous=FULL), so an acknowledged event
// survives a crash of the process and of the machine. Several processes may
// open the same file at once (the trail CLI next to a running server): writes
// take the database's write lock with BEGIN IMMEDIATE and wait for it up to
// the busy timeout.
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"
	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/tables"
)

var _ trail.Store = (*DB)(nil)

// BusyTimeout is how long a write waits for another connection or process
// to release the write lock before it fails.
const BusyTimeout = 10 * time.Second

// DB is a Trail store in one SQLite file.
type DB struct {
	// Now is the clock used for lease expiry and idempotency records.
	// Tests replace it; it defaults to time.Now.
	Now func() time.Time

	path string
	file os.FileInfo // the database file as opened; see checkFile

	*settings // users, sessions, keys and the other settings tables

	w  *sql.DB // the one write connection: SQLite has one writer
	r  *sql.DB // a pool of read-only connections
	x  *sql.DB // read-only connections that map the file, for exports
	i  *sql.DB // the indexer's read-only connection (indexer.go)
	iw *sql.DB // the index file's one writer (indexfile.go)

	segments  segConfig
	fresh     freshEvents // committed here, not yet indexed
	mergeWake chan struct{}
	mergeStop context.CancelFunc
	mergeDone chan struct{}
	ckpt      *sql.DB // the checkpointer's connection
	ckptWake  chan struct{}
	ckptStop  context.CancelFunc
	ckptDone  chan struct{}
	search    *searchIndex // nil without a full-text index (searchindex.go)

	// Nanoseconds inside write transactions: commits (AppendBatches), the
	// serial part of ingest, and the indexer's and merger's in the index
	// file, which has a lock of its own.
	commits    atomic.Int64
	commitCPU  atomic.Int64 // the CPU time of commits (threadCPU)
	background atomic.Int64
}

// Open opens (creating if needed) the store at path, creating the parent
// directory, and applies any migrations the file lacks.
func Open(path string) (*DB, error) {
	return open(path, defaultSegments)
}

// Options are the choices of OpenOptions.
type Options struct {
	// NoSearchIndex keeps no full-text index: a query with a search then
	// checks every event its other filters select (exact, and slow over
	// many events), and ingest does no indexing work for it.
	NoSearchIndex bool
}

// OpenOptions is Open with options.
func OpenOptions(path string, o Options) (*DB, error) {
	cfg := defaultSegments
	cfg.noSearch = o.NoSearchIndex
	return open(path, cfg)
}

func open(path string, segments segConfig) (*DB, error) {
	if path == "" {
		return nil, fmt.Errorf("open sqlite: empty path")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	if err := createPrivate(path); err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	db := &DB{Now: time.Now, path: path, segments: segments}
	// The checkpointer copies the WAL into the file on its own connection
	// while the writer goes on; commits checkpoint themselves only if the
	// WAL grows past 64 MiB, should the checkpointer fall behind.
	db.w = sql.OpenDB(newConnector(dsn(path, false), "PRAGMA wal_autocheckpoint = 16384"))
	db.w.SetMaxOpenConns(1)
	db.w.SetMaxIdleConns(1)
	db.w.SetConnMaxLifetime(0)
	db.w.SetConnMaxIdleTime(0)
	if err := db.migrate(context.Background()); err != nil {
		db.w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	var err error
	if db.file, err = os.Stat(path); err != nil {
		db.w.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	if err := db.dropOldPostings(context.Background()); err != nil {
		db.w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if err := db.openIndex(context.Background()); err != nil {
		db.w.Close()
		if db.iw != nil {
			db.iw.Close()
		}
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	rc := newConnector(dsn(path, true), attachIndex(path, 32768)...)
	rc.check = db.checkFile
	db.r = sql.OpenDB(rc)
	n := max(4, runtime.GOMAXPROCS(0))
	db.r.SetMaxOpenConns(n)
	db.r.SetMaxIdleConns(n)
	// Exports read through connections that map the file: a page comes from
	// the OS page cache without a system call and a copy, which doubles the
	// rate of a long scan. Page queries don't: while the file grows (commits,
	// merges) a mapping connection remaps it at the start of a read, and the
	// page faults that follow put 30 ms tails on scattered pages (target and
	// actor p99 at 2M events: 33 and 29 ms mapped, 4 and 8 ms not, one run
	// each on a quiet box). An I/O error on a mapped page ends the process
	// instead of failing one export; the file is local, like the process.
	xc := newConnector(dsn(path, true), append(attachIndex(path, 32768), "PRAGMA mmap_size = 2147418112")...)
	xc.check = db.checkFile
	db.x = sql.OpenDB(xc)
	db.x.SetMaxOpenConns(2)
	db.x.SetMaxIdleConns(2)
	ic := newConnector(dsn(path, true), attachIndex(path, 8192)...)
	ic.check = db.checkFile
	db.i = sql.OpenDB(ic)
	db.i.SetMaxOpenConns(1)
	db.settings = tables.New(db.w, db.r, dialect{db})
	if !segments.noSearch {
		if err := db.openSearch(); err != nil { // searchindex.go
			errors.Join(db.r.Close(), db.x.Close(), db.i.Close(), db.w.Close())
			return nil, fmt.Errorf("open sqlite %s: %w", path, err)
		}
	}
	db.startMerger()
	db.startCheckpointer()
	return db, nil
}

// createPrivate creates the database file readable by its owner only, before
// SQLite opens it: SQLite would create it 0644, and gives the -wal and -shm
// files the mode of the database file. A file (or -wal, -shm) that an older
// version left group- or world-readable is narrowed to the owner.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		switch {
		case errors.Is(err, os.ErrNotExist):
			continue
		case err != nil:
			return err
		case fi.Mode().Perm()&0o077 != 0:
			if err := os.Chmod(p, fi.Mode().Perm()&0o700); err != nil {
				return err
			}
		}
	}
	return nil
}

// dsn builds the connection string. Writers begin transactions with
// BEGIN IMMEDIATE so that a transaction never fails halfway when it
// upgrades from a read lock to the write lock (txlock, when given, says
// otherwise); readers are query-only.
func dsn(path string, readOnly bool, txlock ...string) string {
	v := url.Values{}
	v.Set("_journal_mode", "WAL")
	v.Set("_synchronous", "FULL")
	v.Set("_busy_timeout", fmt.Sprint(BusyTimeout.Milliseconds()))
	v.Set("_foreign_keys", "on")
	v.Set("_stmt_cache_size", "64")
	if readOnly {
		v.Set("_query_only", "true")
		v.Set("_cache_size", "-32768") // KiB: 32 MiB per reader
	} else {
		v.Set("_txlock", append(txlock, "immediate")[0])
		v.Set("_cache_size", "-131072") // KiB: 128 MiB, keeps index pages hot for ingest
	}
	u := url.URL{Scheme: "file", OmitHost: true, Path: path, RawQuery: v.Encode()}
	return u.String()
}

// connector opens connections with the pragmas that the DSN cannot set,
// without registering a driver name globally.
type connector struct {
	dsn string
	drv *sqlite3.SQLiteDriver
	// check, when set, runs before each new connection: see checkFile.
	check func() error
}

// newConnector runs pragmas on each new connection, after keeping sorts
// and statement journals in memory instead of temp files.
func newConnector(dsn string, pragmas ...string) *connector {
	pragmas = append([]string{"PRAGMA temp_store = MEMORY"}, pragmas...)
	return &connector{dsn: dsn, drv: &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		for _, p := range pragmas {
			if _, err := c.Exec(p, nil); err != nil {
				return err
			}
		}
		return nil
	}}}
}

// Connect implements driver.Connector.
// A read pool's new connection first checks that the database file is the
// one opened: SQLite would otherwise create an empty database where a
// deleted file was, and reads would fail as if tables were missing.
func (c *connector) Connect(context.Context) (driver.Conn, error) {
	if c.check != nil {
		if err := c.check(); err != nil {
			return nil, err
		}
	}
	return c.drv.Open(c.dsn)
}

// Driver implements driver.Connector.
func (c *connector) Driver() driver.Driver { return c.drv }

// Close stops background merging and closes every connection.
func (db *DB) Close() error {
	db.stopMerger()
	db.stopCheckpointer()
	var err error
	if db.search != nil {
		err = db.search.close()
	}
	if db.r != nil {
		err = errors.Join(err, db.r.Close(), db.x.Close(), db.i.Close())
	}
	if db.iw != nil {
		err = errors.Join(err, db.iw.Close())
	}
	if werr := db.w.Close(); werr != nil && err == nil {
		err = werr
	}
	return err
}

// Ping reports whether the database answers a query and its file is still
// there: a file deleted under a running server goes on answering from the
// open descriptor, while nothing it commits would survive a restart.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.checkFile(); err != nil {
		return err
	}
	var one int
	if err := db.r.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return trail.Errorf(trail.EUNAVAILABLE, "database unavailable")
	}
	return nil
}

// Path returns the file the store lives in.
func (db *DB) Path() string { return db.path }

func (db *DB) now() time.Time {
	if db.Now == nil {
		return time.Now()
	}
	return db.Now()
}

// micros stores a time as integer microseconds since the epoch, the
// precision Trail keeps; the zero time is stored as NULL.
func micros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// fromMicros reverses micros.
func fromMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}

// isConstraint reports whether err is a UNIQUE or PRIMARY KEY violation.
func isConstraint(err error) bool {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return false
	}
	return se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey
}

// rollback ends tx after a failure; its own error adds nothing.
func rollback(tx *sql.Tx) { _ = tx.Rollback() }
