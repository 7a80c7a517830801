package sqlite_test

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"

	"github.com/mattn/go-sqlite3"
	"github.com/trailhq/trail"
	"github.com/trailhq/trail/sqlite"
)

// TestStorageFaultCodes maps SQLite's and the OS's errors to the codes the
// API answers with; the full disk and the deleted file also run end to end
// (cmd/trail TestStorageFullSQLite, TestDatabaseFileDeletedSQLite). A file
// system remounted read-only cannot be staged under a running server (the
// kernel refuses while files are open for writing), so it is tested here.
func TestStorageFaultCodes(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"SQLITE_FULL", sqlite3.Error{Code: sqlite3.ErrFull}, trail.ESTORAGEFULL},
		{"IOERR_WRITE+ENOSPC", sqlite3.Error{Code: sqlite3.ErrIoErr, ExtendedCode: sqlite3.ErrIoErrWrite, SystemErrno: syscall.ENOSPC}, trail.ESTORAGEFULL},
		{"IOERR_FSYNC+EDQUOT", sqlite3.Error{Code: sqlite3.ErrIoErr, SystemErrno: syscall.EDQUOT}, trail.ESTORAGEFULL},
		{"IOERR_WRITE+EROFS", sqlite3.Error{Code: sqlite3.ErrIoErr, ExtendedCode: sqlite3.ErrIoErrWrite, SystemErrno: syscall.EROFS}, trail.ESTORAGEREADONLY},
		{"SQLITE_READONLY", sqlite3.Error{Code: sqlite3.ErrReadonly}, trail.ESTORAGEREADONLY},
		{"READONLY_DBMOVED", sqlite3.Error{Code: sqlite3.ErrReadonly, ExtendedCode: sqlite3.ErrReadonlyDbMoved}, trail.EUNAVAILABLE},
		{"IOERR", sqlite3.Error{Code: sqlite3.ErrIoErr, SystemErrno: syscall.EIO}, trail.EUNAVAILABLE},
		{"CANTOPEN", sqlite3.Error{Code: sqlite3.ErrCantOpen}, trail.EUNAVAILABLE},
		{"PathError EROFS", &os.PathError{Op: "open", Path: "x", Err: syscall.EROFS}, trail.ESTORAGEREADONLY},
		{"wrapped", fmt.Errorf("commit: %w", sqlite3.Error{Code: sqlite3.ErrFull}), trail.ESTORAGEFULL},
		{"constraint", sqlite3.Error{Code: sqlite3.ErrConstraint}, ""},
		{"busy", sqlite3.Error{Code: sqlite3.ErrBusy}, ""},
		{"other", errors.New("boom"), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := sqlite.StorageFaultCode(c.err); got != c.want {
				t.Errorf("code %q, want %q", got, c.want)
			}
		})
	}
}
