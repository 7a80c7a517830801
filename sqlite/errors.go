package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/mattn/go-sqlite3"
	"github.com/trailhq/trail"
)

// Storage faults, as callers see them: the API answers 503 with the code
// and Retry-After, and /readyz turns not ready until CheckWritable passes.
var (
	errFull     = trail.Errorf(trail.ESTORAGEFULL, "the database's disk is full")
	errReadOnly = trail.Errorf(trail.ESTORAGEREADONLY, "the database's file system is read-only")
	errLost     = trail.Errorf(trail.EUNAVAILABLE, "database unavailable")
)

// storageFault returns the trail error for a fault of the disk under err (a
// full or read-only file system, an I/O error, a database file that was
// deleted or replaced), or nil if err is something else.
func storageFault(err error) *trail.Error {
	var se sqlite3.Error
	var pe *os.PathError
	switch {
	case errors.As(err, &se):
		return faultOf(se.Code, se.ExtendedCode, se.SystemErrno)
	case errors.As(err, &pe):
		return faultOfErrno(pe.Err)
	}
	return nil
}

func faultOf(code sqlite3.ErrNo, ext sqlite3.ErrNoExtended, errno syscall.Errno) *trail.Error {
	if f := faultOfErrno(errno); f != nil {
		return f
	}
	switch {
	case code == sqlite3.ErrFull:
		return errFull
	case ext == sqlite3.ErrReadonlyDbMoved:
		return errLost // the file was deleted or renamed under us
	case code == sqlite3.ErrReadonly:
		return errReadOnly
	case code == sqlite3.ErrIoErr, code == sqlite3.ErrCantOpen, code == sqlite3.ErrNotADB,
		code == sqlite3.ErrCorrupt:
		return errLost
	}
	return nil
}

func faultOfErrno(err error) *trail.Error {
	switch {
	case err == nil, errors.Is(err, syscall.Errno(0)):
		return nil
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return errFull
	case errors.Is(err, syscall.EROFS):
		return errReadOnly
	case errors.Is(err, syscall.EIO), errors.Is(err, syscall.ENOENT):
		return errLost
	}
	return nil
}

// wrap keeps err's cause for the log and, for a storage fault, adds the
// trail error that callers act on.
func wrap(op string, err error) error {
	if f := storageFault(err); f != nil {
		return fmt.Errorf("%s: %w: %v", op, f, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// checkFile fails with EUNAVAILABLE if the database file was deleted or
// replaced since Open. SQLite in WAL mode would go on committing to the
// open, unlinked file, and everything acknowledged since would be gone at
// the next start.
func (db *DB) checkFile() error {
	fi, err := os.Stat(db.path)
	if err != nil {
		return wrap("check database file", err)
	}
	if !os.SameFile(fi, db.file) {
		return fmt.Errorf("check database file: %w: %s was replaced since it was opened", errLost, db.path)
	}
	return nil
}

// writeCheckSize is how much CheckWritable writes beside the database: about
// what one large commit adds to the WAL, so that a disk with less room than
// that stays reported as full.
const writeCheckSize = 4 << 20

// CheckWritable reports whether the store can take a write now: it writes,
// fsyncs and removes writeCheckSize bytes beside the database file, then
// commits a write that changes nothing, which also notices a database file
// that was deleted under the running process.
func (db *DB) CheckWritable(ctx context.Context) error {
	if err := checkDisk(filepath.Dir(db.path)); err != nil {
		return wrap("check writable", err)
	}
	if err := db.checkFile(); err != nil {
		return err
	}
	_, err := db.w.ExecContext(ctx, "UPDATE stream_pos SET next_pos = next_pos WHERE one = 1")
	if err != nil {
		return wrap("check writable", err)
	}
	return nil
}

// checkDisk writes, fsyncs and removes a scratch file of writeCheckSize
// bytes in dir.
func checkDisk(dir string) error {
	f, err := os.CreateTemp(dir, ".trail-writecheck-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 64<<10)
	for n := 0; n < writeCheckSize; n += len(buf) {
		if _, err := f.Write(buf); err != nil {
			return err
		}
	}
	return f.Sync()
}
