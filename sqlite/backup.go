package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"

	"github.com/mattn/go-sqlite3"
)

// Backup copies the store at src into the new file dst while other
// connections and processes go on writing to src. It uses SQLite's online
// backup API and copies every page in one step, inside one read
// transaction, so dst is src as of one commit: every event committed
// before Backup began is in it, and no half-written batch. dst must not
// exist. The copy is checked (PRAGMA quick_check) and fsynced before
// Backup returns.
func Backup(ctx context.Context, src, dst string) (err error) {
	if _, err := os.Stat(dst); err == nil {
		return fmt.Errorf("backup: %s exists", dst)
	}
	from := sql.OpenDB(newConnector(dsn(src, true)))
	defer from.Close()
	to := sql.OpenDB(newConnector(dsn(dst, false)))
	defer to.Close()
	defer func() {
		if err != nil {
			os.Remove(dst)
			os.Remove(dst + "-wal")
			os.Remove(dst + "-shm")
		}
	}()
	if err := copyPages(ctx, from, to); err != nil {
		return fmt.Errorf("backup %s: %w", src, err)
	}
	if err := quickCheck(ctx, to); err != nil {
		return fmt.Errorf("backup %s: the copy fails its check: %w", src, err)
	}
	// Fold the copy's WAL into its file, so that dst alone is the backup.
	if _, err := to.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return fmt.Errorf("backup: checkpoint the copy: %w", err)
	}
	if err := to.Close(); err != nil {
		return fmt.Errorf("backup: close the copy: %w", err)
	}
	return syncFile(dst)
}

// copyPages runs the backup API from one connection of from to one of to.
func copyPages(ctx context.Context, from, to *sql.DB) error {
	fc, err := from.Conn(ctx)
	if err != nil {
		return err
	}
	defer fc.Close()
	tc, err := to.Conn(ctx)
	if err != nil {
		return err
	}
	defer tc.Close()
	return tc.Raw(func(tdc any) error {
		return fc.Raw(func(fdc any) error {
			b, err := tdc.(*sqlite3.SQLiteConn).Backup("main", fdc.(*sqlite3.SQLiteConn), "main")
			if err != nil {
				return err
			}
			// -1: every page in one step, so no write of another
			// connection can restart or tear the copy.
			done, err := b.Step(-1)
			if err == nil && !done {
				err = errors.New("backup step did not finish")
			}
			return errors.Join(err, b.Finish())
		})
	})
}

// quickCheck runs PRAGMA quick_check on db.
func quickCheck(ctx context.Context, db *sql.DB) error {
	var res string
	if err := db.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&res); err != nil {
		return err
	}
	if res != "ok" {
		return errors.New(res)
	}
	return nil
}

// Check opens the SQLite file at path read-only and runs PRAGMA
// quick_check, for restores: a damaged backup is refused before it
// replaces anything.
func Check(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err != nil {
		return err
	}
	db := sql.OpenDB(newConnector(dsn(path, true)))
	defer db.Close()
	if err := quickCheck(ctx, db); err != nil {
		return fmt.Errorf("check %s: %w", path, err)
	}
	return nil
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
