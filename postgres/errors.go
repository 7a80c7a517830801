package postgres

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/trailhq/trail"
)

// isUnavailable reports whether err means the database cannot be reached
// or is shutting down or overloaded, rather than that a statement is wrong:
// the caller should retry later.
func isUnavailable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return unavailableCode(pgErr.Code)
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne):
		return true
	case errors.Is(err, context.DeadlineExceeded), pgconn.Timeout(err), pgconn.SafeToRetry(err):
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, driver.ErrBadConn): // database/sql, for the settings tables
		return true
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "closed pool") ||
		strings.Contains(msg, "conn busy")
}

// unavailableCode reports whether a server error code means the server is
// going away or cannot take more work right now.
func unavailableCode(code string) bool {
	switch {
	case strings.HasPrefix(code, "08"): // connection exception
		return true
	case code == "57P01", code == "57P02", code == "57P03": // shutdown, crash, starting up
		return true
	case code == "53300", code == "53100", code == "53200": // too many connections, disk full, out of memory
		return true
	case code == "57014", code == "55P03": // statement timeout, lock not available
		return true
	}
	return false
}

// isNoPartition reports whether err is an insert into a month that has no
// partition (one dropped by retention after this node cached it).
func isNoPartition(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23514" && strings.Contains(pgErr.Message, "no partition")
}

// Storage faults of the server, as callers see them: the API answers 503
// with the code and Retry-After, and /readyz turns not ready until
// CheckWritable passes.
var (
	errFull     = trail.Errorf(trail.ESTORAGEFULL, "the database's disk is full")
	errReadOnly = trail.Errorf(trail.ESTORAGEREADONLY, "the database is read-only")
)

// storageFault returns the trail error for a server that cannot write
// (53100 disk_full, 25006 read_only_sql_transaction, as on a standby or
// with default_transaction_read_only), or nil.
func storageFault(err error) *trail.Error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return nil
	}
	switch pgErr.Code {
	case "53100":
		return errFull
	case "25006":
		return errReadOnly
	}
	return nil
}

// writeCheckRows is how many rows of about 1 KiB CheckWritable writes: a
// few MiB, about what a large commit adds, so that a tablespace with less
// room than that stays reported as full.
const writeCheckRows = 4096

// CheckWritable reports whether the database can take a write now: it
// fills a temporary table in the database's default tablespace (where
// Trail's tables live unless the operator moved them) inside a transaction
// that it rolls back, so nothing stays behind.
func (db *DB) CheckWritable(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, PingTimeout)
	defer cancel()
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("check writable: %w", wrap(err))
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// Temporary tables go to temp_tablespaces when the operator set it;
	// check the tablespace that Trail's tables live in instead.
	if _, err := tx.Exec(ctx, "SET LOCAL temp_tablespaces = ''"); err != nil {
		return fmt.Errorf("check writable: %w", wrap(err))
	}
	const check = `CREATE TEMP TABLE trail_write_check ON COMMIT DROP AS
		SELECT g, repeat(md5(g::text), 32) AS pad FROM generate_series(1, $1::int) g`
	if _, err := tx.Exec(ctx, check, writeCheckRows); err != nil {
		return fmt.Errorf("check writable: %w", wrap(err))
	}
	return nil
}
