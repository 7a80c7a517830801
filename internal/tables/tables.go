// Package tables is the settings tables of both stores (users, sessions,
// API keys, schemas, leases, alert rules, retention policies and holds,
// execution logs), written once over database/sql.
//
// The event engines of sqlite/ and postgres/ differ for good reasons (one
// writer and segment postings against partitions, COPY and batches); these
// tables do not. A Dialect says what does differ: placeholders, how a time
// is stored, what a list of strings is, which error is a unique violation
// and how a connection failure reads to callers. Each store embeds a
// Tables, so its methods are the store's.
package tables

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/trailhq/trail/internal/secretbox"
)

// Dialect is what differs between the databases for the settings tables.
// Queries are written with ? placeholders.
type Dialect interface {
	// Rebind rewrites the ? placeholders of q as the database wants them.
	Rebind(q string) string
	// Time is the column value of t.
	Time(t time.Time) any
	// Strings is the column value of a list of strings.
	Strings(v []string) (any, error)
	// ScanStrings is a scan destination that fills *dst from a column
	// written by Strings.
	ScanStrings(dst *[]string) any
	// Doc is the column value of a JSON document.
	Doc(b []byte) any
	// RowID is the column that names a row of any table.
	RowID() string
	// SealDoc seals a JSON document with k (nil: keeps it plain) into its
	// column value; OpenDoc reverses it, opening plain documents too.
	SealDoc(k *secretbox.Keyring, doc []byte, context string) ([]byte, error)
	OpenDoc(k *secretbox.Keyring, stored []byte, context string) ([]byte, error)
	// LeaseClock is the expiry of a lease taken now for ttl, and now, on
	// the clock that leases go by.
	LeaseClock(ttl time.Duration) (until, now Expr)
	// Lock is a statement that, run first in a transaction, makes every
	// other transaction that runs it with the same key wait until this one
	// ends; empty SQL where write transactions are exclusive already.
	Lock(key string) Expr
	// IsUnique reports whether err is a UNIQUE or PRIMARY KEY violation.
	IsUnique(err error) bool
	// Wrap turns a connection or storage failure into the trail error
	// callers act on, and leaves other errors as they are.
	Wrap(err error) error
}

// Tables is the settings tables of one database: writes go through w,
// reads through r (the same pool where the database has one).
type Tables struct {
	w, r    *sql.DB
	d       Dialect
	secrets *secretbox.Keyring // seals forwarder settings and alert rules
	dir     Directory          // the directory entries appends wrote
}

// UseSecrets makes the tables seal the secrets they keep (forwarder
// settings, alert rules) with k, and open them with it; without it secrets
// are stored as they are. Call it right after opening the store, before it
// is used.
func (t *Tables) UseSecrets(k *secretbox.Keyring) { t.secrets = k }

// Secrets returns the keyring given to UseSecrets, or nil.
func (t *Tables) Secrets() *secretbox.Keyring { return t.secrets }

// New returns the tables of a database written through w and read through r.
func New(w, r *sql.DB, d Dialect) *Tables { return &Tables{w: w, r: r, d: d} }

// nullTime is the column value of t, NULL for the zero time.
func (t *Tables) nullTime(v time.Time) any {
	if v.IsZero() {
		return nil
	}
	return t.d.Time(v)
}

// ScanTime is a scan destination for a time column of either dialect:
// integer microseconds since the epoch or a timestamp; NULL scans as the
// zero time.
func ScanTime(dst *time.Time) sql.Scanner { return timeDest{dst} }

type timeDest struct{ t *time.Time }

func (d timeDest) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d.t = time.Time{}
	case int64:
		*d.t = time.UnixMicro(v).UTC()
	case time.Time:
		*d.t = v.UTC()
	default:
		return fmt.Errorf("scan time: unexpected %T", src)
	}
	return nil
}

// scanAll reads every row of rows with scan, closing rows; it wraps a
// failure as what failed.
func scanAll[T any](rows *sql.Rows, scan func(*sql.Rows, *T) error) ([]*T, error) {
	defer rows.Close()
	out := []*T{}
	for rows.Next() {
		var v T
		if err := scan(rows, &v); err != nil {
			return nil, err
		}
		out = append(out, &v)
	}
	return out, rows.Err()
}

// query runs q (with ? placeholders) on the read pool and scans its rows.
func query[T any](t *Tables, ctx context.Context, scan func(*sql.Rows, *T) error, q string, args ...any) ([]*T, error) {
	return queryOn(t, t.r, ctx, scan, q, args...)
}

// queryOn runs q (with ? placeholders) on db and scans its rows: a write
// with RETURNING goes to the write pool.
func queryOn[T any](t *Tables, db *sql.DB, ctx context.Context, scan func(*sql.Rows, *T) error, q string, args ...any) ([]*T, error) {
	rows, err := db.QueryContext(ctx, t.d.Rebind(q), args...)
	if err != nil {
		return nil, t.d.Wrap(err)
	}
	out, err := scanAll(rows, scan)
	return out, t.d.Wrap(err)
}

// exec runs q (with ? placeholders) on the write pool and returns how many
// rows it changed.
func (t *Tables) exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := t.w.ExecContext(ctx, t.d.Rebind(q), args...)
	if err != nil {
		return 0, t.d.Wrap(err)
	}
	return res.RowsAffected()
}

// inTx runs f in a transaction on the write pool, committing when it
// returns nil.
func (t *Tables) inTx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := t.w.BeginTx(ctx, nil)
	if err != nil {
		return t.d.Wrap(err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := f(tx); err != nil {
		return t.d.Wrap(err)
	}
	return t.d.Wrap(tx.Commit())
}
