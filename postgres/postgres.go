// Package postgres is Trail's PostgreSQL store, for deployments that run
// several stateless `trail serve` nodes in front of one database.
//
// Events are partitioned by month of occurred_at, so that a date range
// reads few partitions and retention can drop whole months. Seq and Pos are
// assigned inside the append transaction from counter rows that it locks,
// so they follow commit order across nodes. Migrations are embedded and run
// at Open under an advisory lock, so nodes that start together do not race.
// When the database is unreachable, every method fails with an
// EUNAVAILABLE error, and the connection pool recovers by itself once the
// database is back.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/tables"
)

var _ trail.Store = (*DB)(nil)

// Timeouts that keep a node responsive while the database is away.
const (
	// ConnectTimeout bounds one connection attempt when the URL sets none.
	ConnectTimeout = 5 * time.Second
	// PingTimeout bounds Ping, which /readyz and ingest use.
	PingTimeout = 2 * time.Second
	// DefaultMaxConns is the most connections each of a node's two pools
	// (page queries, everything else) opens when the URL sets no
	// pool_max_conns.
	DefaultMaxConns = 16
	// maintainEvery is how often partitions are created ahead of need.
	maintainEvery = 6 * time.Hour
)

// DB is a Trail store in one PostgreSQL database.
type DB struct {
	// Now is the clock used for idempotency records and for choosing which
	// partitions to create ahead. Lease expiry uses the database's clock.
	Now func() time.Time

	pool    *pgxpool.Pool // everything but page queries
	std     *sql.DB       // pool through database/sql, for the settings tables
	pages   *pgxpool.Pool // page queries, with pageSettings
	parts   *partitions
	analyze *analyzer
	stop    context.CancelFunc
	done    <-chan struct{} // closed by stop
	wg      sync.WaitGroup
	// walkRows: the rows a search walks before it decides how to read on
	// (SetSearchWalk)
	walkRows int
	// ginKeys: the most candidate keys a search reads at once through
	// the GIN index (ginKeyLimit; SetSearchKeyLimit)
	ginKeys int
	// noSearch: appends write no search tokens (SetSearchIndexing)
	noSearch bool

	*settings // users, sessions, keys and the other settings tables

}

// Open connects to the database at dsn (a postgres:// URL or a libpq
// keyword string; pool_max_conns and the other pgxpool settings may be
// given in it), applies missing migrations, and creates the event
// partitions of the coming months.
func Open(dsn string) (*DB, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool, err := newPool(ctx, dsn, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	db := &DB{Now: time.Now, pool: pool, parts: newPartitions(), analyze: newAnalyzer(), walkRows: walkRows, ginKeys: ginKeyLimit}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres: %w", wrap(err))
	}
	if err := db.ensureAhead(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres: %w", wrap(err))
	}
	// The page pool's new connections plan a query on events, so it opens
	// once the tables exist.
	if db.pages, err = openPagePool(ctx, dsn); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres: %w", wrap(err))
	}
	db.std = stdlib.OpenDBFromPool(pool)
	db.settings = tables.New(db.std, db.std, dialect{})
	mctx, stop := context.WithCancel(context.Background())
	db.stop, db.done = stop, mctx.Done()
	db.wg.Add(2)
	go db.maintain(mctx)
	go db.backfillLoop(mctx)
	return db, nil
}

// newPool opens a connection pool on dsn whose sessions use settings;
// tune, if not nil, adjusts the pool's configuration.
func newPool(ctx context.Context, dsn string, settings map[string]string, tune func(string, *pgxpool.Config)) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = ConnectTimeout
	}
	// Timestamps cross the wire as UTC whatever the server's default.
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	for k, v := range settings {
		cfg.ConnConfig.RuntimeParams[k] = v
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		// Every request reads its API key, and the writer holds one
		// connection per commit: the driver's default (4 on a small
		// machine) queues requests behind each other.
		cfg.MaxConns = DefaultMaxConns
	}
	if tune != nil {
		tune(dsn, cfg)
	}
	return pgxpool.NewWithConfig(ctx, cfg)
}

// Close stops background maintenance and closes every connection.
func (db *DB) Close() error {
	db.stop()
	db.wg.Wait()
	db.closePools()
	return nil
}

func (db *DB) closePools() {
	db.std.Close()
	db.pool.Close()
	db.pages.Close()
}

// Ping reports whether the database answers, within PingTimeout.
func (db *DB) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, PingTimeout)
	defer cancel()
	if err := db.pool.Ping(ctx); err != nil {
		return unavailable("ping", err)
	}
	return nil
}

// Pool returns the connection pool, for tools and tests that need SQL the
// store does not offer.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// maintain creates the partitions of the coming months ahead of need, so
// that the first event of a month does not wait for DDL, analyzes the
// current partitions as events are appended (analyze.go), and merges the
// search index's pending entries (cleanPending).
func (db *DB) maintain(ctx context.Context) {
	defer db.wg.Done()
	t := time.NewTicker(maintainEvery)
	defer t.Stop()
	after, appended, pending := int64(DefaultAnalyzeAfter), int64(0), int64(0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			// A failure here is retried at the next tick, and appends
			// create any partition they need themselves.
			_ = db.ensureAhead(ctx)
		case after = <-db.analyze.after:
		case n := <-db.analyze.appended:
			if pending += n; pending >= cleanPendingAfter {
				// A failure leaves the work to the next time, or to
				// an insert.
				pending = 0
				_ = db.cleanPending(ctx)
			}
			appended += n
			if after > 0 && appended >= after {
				// A failure waits for the next AnalyzeAfter events.
				appended = 0
				_ = db.analyzeHot(ctx)
			}
		}
	}
}

func (db *DB) now() time.Time {
	if db.Now == nil {
		return time.Now()
	}
	return db.Now()
}

// errUnavailable is what callers see when the database is away: the API
// answers 503 with Retry-After.
var errUnavailable = trail.Errorf(trail.EUNAVAILABLE, "database unavailable")

// unavailable wraps a connection failure of op as EUNAVAILABLE, keeping the
// cause in the message for the logs.
func unavailable(op string, err error) error {
	return fmt.Errorf("%w: %s: %v", errUnavailable, op, err)
}

// wrap turns a full disk into ESTORAGEFULL, a read-only database into
// ESTORAGEREADONLY and connection failures into EUNAVAILABLE, and leaves
// other errors as they are.
func wrap(err error) error {
	var te *trail.Error
	if err == nil || errors.As(err, &te) {
		return err
	}
	if f := storageFault(err); f != nil {
		return fmt.Errorf("%w: database: %v", f, err)
	}
	if !isUnavailable(err) {
		return err
	}
	return unavailable("database", err)
}
