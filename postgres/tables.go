package postgres

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/secretbox"
	"github.com/trailhq/trail/internal/tables"
)

// settings is the settings tables (users, sessions, keys, ...), written
// once for both stores in internal/tables over database/sql (pgx's stdlib
// adapter on the same pool); DB embeds them.
type settings = tables.Tables

// dialect is PostgreSQL's side of the settings tables: $n placeholders,
// timestamptz, text[] lists.
type dialect struct{}

// LeaseClock is the database's clock, so that nodes whose clocks disagree
// still agree on who holds a lease.
func (dialect) LeaseClock(ttl time.Duration) (until, now tables.Expr) {
	return tables.Expr{SQL: "clock_timestamp() + ? * interval '1 microsecond'", Args: []any{ttl.Microseconds()}},
		tables.Expr{SQL: "clock_timestamp()"}
}

// Lock is a transaction-scoped advisory lock on a 64-bit hash of key.
func (dialect) Lock(key string) tables.Expr {
	return tables.Expr{SQL: "SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", Args: []any{key}}
}

func (dialect) Rebind(q string) string          { return tables.Dollar(q) }
func (dialect) Time(t time.Time) any            { return t }
func (dialect) Strings(v []string) (any, error) { return v, nil }
func (dialect) IsUnique(err error) bool         { return isUniqueViolation(err) }
func (dialect) Doc(b []byte) any                { return string(b) }
func (dialect) RowID() string                   { return "ctid" }
func (dialect) SealDoc(k *secretbox.Keyring, doc []byte, context string) ([]byte, error) {
	return sealJSONB(k, doc, context)
}

func (dialect) OpenDoc(k *secretbox.Keyring, stored []byte, context string) ([]byte, error) {
	return openJSONB(k, stored, context)
}

func (dialect) Wrap(err error) error          { return wrap(err) }
func (dialect) ScanStrings(dst *[]string) any { return textArray{dst} }

// textMap decodes text[] columns, which database/sql hands over in
// PostgreSQL's text form; a Map is not safe for concurrent use.
var (
	textMapMu sync.Mutex
	textMap   = pgtype.NewMap()
)

// textArray scans a text[] column into a []string.
type textArray struct{ dst *[]string }

func (a textArray) Scan(src any) error {
	textMapMu.Lock()
	defer textMapMu.Unlock()
	return textMap.SQLScanner(a.dst).Scan(src)
}

// nullTime stores the zero time as NULL.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// queryStrings runs a query of one text column and collects its values.
func queryStrings(ctx context.Context, db *DB, q string, args ...any) ([]string, error) {
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// LedgerCursor returns the stream position up to which the ledger has
// integrated events.
func (db *DB) LedgerCursor(ctx context.Context) (int64, error) {
	return db.Cursor(ctx, trail.CursorLedger)
}

// StartAlertCursor moves a never-set alert cursor to the stream's head.
func (db *DB) StartAlertCursor(ctx context.Context) (int64, error) {
	return db.StartCursor(ctx, trail.CursorAlerts)
}
