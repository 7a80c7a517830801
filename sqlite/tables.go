package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/secretbox"
	"github.com/trailhq/trail/internal/tables"
)

// settings is the settings tables (users, sessions, keys, ...), written
// once for both stores in internal/tables; DB embeds them.
type settings = tables.Tables

// dialect is SQLite's side of the settings tables: ? placeholders, times
// as integer microseconds, lists as JSON text, leases on db's clock.
type dialect struct{ db *DB }

func (d dialect) LeaseClock(ttl time.Duration) (until, now tables.Expr) {
	t := d.db.now()
	return tables.Expr{SQL: "?", Args: []any{t.Add(ttl).UnixMicro()}}, tables.Expr{SQL: "?", Args: []any{t.UnixMicro()}}
}

// Lock needs no statement: the settings tables write through one
// connection whose transactions begin IMMEDIATE, one at a time.
func (dialect) Lock(string) tables.Expr { return tables.Expr{} }

func (dialect) Rebind(q string) string  { return q }
func (dialect) Time(t time.Time) any    { return t.UnixMicro() }
func (dialect) IsUnique(err error) bool { return isConstraint(err) }
func (dialect) Doc(b []byte) any        { return b }
func (dialect) RowID() string           { return "rowid" }
func (dialect) SealDoc(k *secretbox.Keyring, doc []byte, context string) ([]byte, error) {
	return secretbox.Seal(k, doc, context)
}

func (dialect) OpenDoc(k *secretbox.Keyring, stored []byte, context string) ([]byte, error) {
	return secretbox.Open(k, stored, context)
}

func (dialect) Wrap(err error) error          { return err }
func (dialect) ScanStrings(dst *[]string) any { return jsonStrings{dst} }

func (dialect) Strings(v []string) (any, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// jsonStrings scans a list stored as JSON text.
type jsonStrings struct{ dst *[]string }

func (j jsonStrings) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("scan list: unexpected %T", src)
	}
	return json.Unmarshal(b, j.dst)
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
