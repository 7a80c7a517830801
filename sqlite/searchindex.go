package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/trailhq/trail"
)

// The full-text index lives in its own SQLite file beside the store
// (<db>.search), written by a follower of the stream off the commit path:
// its writes take that file's lock, never the store's, so indexing adds
// nothing to what a commit waits for. It is an FTS4 table (compiled into
// mattn/go-sqlite3 by default, where FTS5 needs a build tag), contentless:
// each event is one document of the words of trail.SearchFields, as
// trail.SearchTokens splits and lowercases them, joined by spaces, under
// docid = the event's position, tokenized by FTS4's simple tokenizer,
// which keeps those words whole. The cursor (the last position indexed)
// is stored in the same file and moved in the same transaction as the
// documents it covers, so a crash never leaves them apart. A missing or
// damaged file, another store's (its state names store_meta's id) or one
// ahead of the store (restored from an older backup) is rebuilt from the
// events.
//
// Queries read the events past the cursor from the events table and apply
// Match to them, so an event is findable as soon as it is acknowledged;
// candidates from the index are read back and checked with Match too, so
// the index only narrows (see search.go). Retention deletes events and
// leaves their documents: a contentless FTS4 table cannot delete, and a
// candidate whose event is gone is skipped.

// searchVersion is the layout of the search file; another is rebuilt.
const searchVersion = 1

// searchBlockShift groups positions into blocks of 1024 whose time bounds
// the search file keeps, so that a page in time order can tell when no
// older position can still enter it.
const searchBlockShift = 10

// searchIndexBatch is how many events one indexing transaction covers.
const searchIndexBatch = 2000

// searchGap is how long the follower lets a burst's commits gather after
// one wakes it, so that an indexing transaction covers many of them: FTS4
// inserts and merges cost less per event in larger transactions.
const searchGap = 100 * time.Millisecond

// searchIdle is how often the follower looks for commits of other
// processes when no commit of this one woke it.
const searchIdle = time.Second

var searchSchema = []string{
	`CREATE VIRTUAL TABLE IF NOT EXISTS docs USING fts4(content="", body, tokenize=simple, order=DESC)`,
	`CREATE VIRTUAL TABLE IF NOT EXISTS terms USING fts4aux(docs)`,
	`CREATE TABLE IF NOT EXISTS state (id INTEGER PRIMARY KEY CHECK (id = 1), store TEXT NOT NULL, pos INTEGER NOT NULL)`,
	`INSERT OR IGNORE INTO state (id, store, pos) VALUES (1, '', 0)`,
	`CREATE TABLE IF NOT EXISTS blocks (block INTEGER PRIMARY KEY, min_t INTEGER NOT NULL, max_t INTEGER NOT NULL)`,
	fmt.Sprintf("PRAGMA user_version = %d", searchVersion),
}

// searchIndex is the search file and its follower.
type searchIndex struct {
	path  string
	w     *sql.DB // the follower's one write connection
	r     *sql.DB // queries' read connections
	ev    *sql.DB // the follower's read connection to the store's events
	wake  chan struct{}
	fresh searchFresh
	stop  context.CancelFunc
	done  chan struct{}
}

// openSearch opens (creating or rebuilding) the search file of the store
// and starts its follower.
func (db *DB) openSearch() error {
	path := db.path + ".search"
	x := &searchIndex{path: path, wake: make(chan struct{}, 1), done: make(chan struct{})}
	if err := x.open(); err != nil {
		return fmt.Errorf("open search index: %w", err)
	}
	ec := newConnector(dsn(db.path, true))
	ec.check = db.checkFile
	x.ev = sql.OpenDB(ec)
	x.ev.SetMaxOpenConns(1)
	if err := db.checkSearch(x); err != nil {
		errors.Join(x.r.Close(), x.w.Close(), x.ev.Close())
		return fmt.Errorf("open search index: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	x.stop = cancel
	db.search = x
	go db.followSearch(ctx)
	return nil
}

func (x *searchIndex) open() error {
	if err := createPrivate(x.path); err != nil {
		return err
	}
	wdsn := strings.Replace(dsn(x.path, false), "_synchronous=FULL", "_synchronous=NORMAL", 1)
	x.w = sql.OpenDB(newConnector(wdsn))
	x.w.SetMaxOpenConns(1)
	x.w.SetConnMaxIdleTime(0)
	err := x.migrate()
	if err != nil { // a damaged or foreign file: start over
		x.w.Close()
		for _, p := range []string{x.path, x.path + "-wal", x.path + "-shm"} {
			if rerr := os.Remove(p); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
				return errors.Join(err, rerr)
			}
		}
		if err := createPrivate(x.path); err != nil {
			return err
		}
		x.w = sql.OpenDB(newConnector(wdsn))
		x.w.SetMaxOpenConns(1)
		if err := x.migrate(); err != nil {
			x.w.Close()
			return err
		}
	}
	x.r = sql.OpenDB(newConnector(dsn(x.path, true)))
	x.r.SetMaxOpenConns(4)
	x.r.SetMaxIdleConns(4)
	return nil
}

// checkSearch binds the search file to the store (store_meta's id) and
// empties it when it belongs to another store or covers positions the
// store never reached (the store was restored from an older backup): the
// follower then rebuilds it from the events.
func (db *DB) checkSearch(x *searchIndex) error {
	ctx := context.Background()
	var store, id string
	var cursor, head int64
	if err := x.w.QueryRowContext(ctx, "SELECT store, pos FROM state").Scan(&store, &cursor); err != nil {
		return err
	}
	if err := x.ev.QueryRowContext(ctx, "SELECT m.id, p.next_pos - 1 FROM store_meta m, stream_pos p").Scan(&id, &head); err != nil {
		return err
	}
	if store != "" && (store != id || cursor > head) {
		for _, s := range []string{"DROP TABLE terms", "DROP TABLE docs", "DROP TABLE blocks", "DROP TABLE state"} {
			if _, err := x.w.ExecContext(ctx, s); err != nil {
				return err
			}
		}
		if err := x.migrate(); err != nil {
			return err
		}
	}
	_, err := x.w.ExecContext(ctx, "UPDATE state SET store = ?", id)
	return err
}

// migrate creates the tables, first dropping those of another layout.
func (x *searchIndex) migrate() error {
	var v int
	if err := x.w.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	if v != 0 && v != searchVersion {
		return fmt.Errorf("search file version %d", v)
	}
	for _, s := range searchSchema {
		if _, err := x.w.Exec(s); err != nil {
			return err
		}
	}
	return nil
}

func (x *searchIndex) close() error {
	x.stop()
	<-x.done
	return errors.Join(x.r.Close(), x.w.Close(), x.ev.Close())
}

// wakeSearch hands the follower the events of a commit.
func (db *DB) wakeSearch(batches []*trail.Batch) {
	if db.search == nil {
		return
	}
	db.search.fresh.add(batches)
	select {
	case db.search.wake <- struct{}{}:
	default:
	}
}

// followSearch indexes the events after the search cursor until ctx ends,
// waking on this process's commits and now and then for other processes'.
func (db *DB) followSearch(ctx context.Context) {
	x := db.search
	defer close(x.done)
	t := time.NewTicker(searchIdle)
	defer t.Stop()
	for {
		n, err := db.searchStep(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			slog.Error("search index", "err", err)
		case n == searchIndexBatch:
			continue // more are waiting
		}
		select {
		case <-ctx.Done():
			return
		case <-x.wake:
			// Let a burst's commits gather into one indexing transaction.
			select {
			case <-ctx.Done():
				return
			case <-time.After(searchGap):
			}
		case <-t.C:
		}
	}
}

// searchDoc is one event's document.
type searchDoc struct {
	pos, at int64
	body    string
}

// searchStep indexes up to searchIndexBatch events after the search
// cursor and returns how many it indexed.
func (db *DB) searchStep(ctx context.Context) (int, error) {
	x := db.search
	cursor, err := searchCursor(ctx, x.w)
	if err != nil {
		return 0, err
	}
	docs := x.fresh.after(cursor, searchIndexBatch)
	if docs == nil {
		if docs, err = db.storedDocs(ctx, cursor); err != nil || len(docs) == 0 {
			return 0, err
		}
	}
	tx, err := x.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer rollback(tx)
	if now, err := searchCursor(ctx, tx); err != nil || now != cursor {
		return 0, err // another process indexed them
	}
	bounds := map[int64][2]int64{}
	for _, d := range docs {
		if _, err := tx.ExecContext(ctx, "INSERT INTO docs (docid, body) VALUES (?, ?)", d.pos, d.body); err != nil {
			return 0, fmt.Errorf("index event at pos %d: %w", d.pos, err)
		}
		b, ok := bounds[d.pos>>searchBlockShift]
		if !ok {
			b = [2]int64{d.at, d.at}
		}
		bounds[d.pos>>searchBlockShift] = [2]int64{min(b[0], d.at), max(b[1], d.at)}
	}
	for block, b := range bounds {
		if _, err := tx.ExecContext(ctx, `INSERT INTO blocks (block, min_t, max_t) VALUES (?, ?, ?)
			ON CONFLICT (block) DO UPDATE SET min_t = min(min_t, excluded.min_t), max_t = max(max_t, excluded.max_t)`,
			block, b[0], b[1]); err != nil {
			return 0, err
		}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE state SET pos = ?", docs[len(docs)-1].pos); err != nil {
		return 0, err
	}
	return len(docs), tx.Commit()
}

// storedDocs reads the documents of up to searchIndexBatch events after
// cursor from the events table, without any lock of the store.
func (db *DB) storedDocs(ctx context.Context, cursor int64) ([]searchDoc, error) {
	evs, err := db.queryEvents(ctx, db.search.ev, "SELECT pos, data FROM events WHERE pos > ? ORDER BY pos LIMIT ?", cursor, searchIndexBatch)
	if err != nil {
		return nil, fmt.Errorf("read events to index: %w", err)
	}
	docs := make([]searchDoc, len(evs))
	for i, e := range evs {
		docs[i] = newSearchDoc(e)
	}
	return docs, nil
}

func newSearchDoc(e *trail.Event) searchDoc {
	return searchDoc{e.Pos, e.OccurredAt.UnixMicro(), searchDocument(e)}
}

// searchFresh holds the events this process committed, in position order,
// so that the follower neither reads nor decodes them again.
type searchFresh struct {
	mu  sync.Mutex
	evs []*trail.Event
}

// add hands over the events of a commit, after it.
func (f *searchFresh) add(batches []*trail.Batch) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, b := range batches {
		if b.Replayed != nil {
			continue
		}
		for _, e := range b.Events {
			c := *e // the caller may append the same event again, which sets its Pos
			f.evs = append(f.evs, &c)
		}
	}
	if len(f.evs) > maxFresh {
		f.evs = nil // the follower reads them from the table
	}
}

// after returns the documents of up to n handed-over events that directly
// follow cursor, nil when they do not (another process committed in
// between), dropping those at or before cursor.
func (f *searchFresh) after(cursor int64, n int) []searchDoc {
	f.mu.Lock()
	i := 0
	for i < len(f.evs) && f.evs[i].Pos <= cursor {
		i++
	}
	f.evs = f.evs[i:]
	if len(f.evs) == 0 || f.evs[0].Pos != cursor+1 {
		f.mu.Unlock()
		return nil
	}
	k := 1
	for k < min(n, len(f.evs)) && f.evs[k].Pos == f.evs[k-1].Pos+1 {
		k++
	}
	evs := slices.Clone(f.evs[:k])
	f.mu.Unlock()
	docs := make([]searchDoc, len(evs))
	for i, e := range evs {
		docs[i] = newSearchDoc(e)
	}
	return docs
}

// searchDocument is the document of e: the words of every string a search
// looks at, joined by spaces, in the order of trail.SearchFields, so that
// a phrase within one string is a phrase of the document.
func searchDocument(e *trail.Event) string { return string(trail.AppendSearchWords(nil, e)) }

// searchCursor returns the last position the search file covers.
func searchCursor(ctx context.Context, q rowQuerier) (int64, error) {
	var pos int64
	if err := q.QueryRowContext(ctx, "SELECT pos FROM state").Scan(&pos); err != nil {
		return 0, fmt.Errorf("read search cursor: %w", err)
	}
	return pos, nil
}

// rowQuerier is a *sql.DB or *sql.Tx.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}
