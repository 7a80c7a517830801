package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/trailhq/trail"
)

// openExistingStore opens the store that cfg names, like OpenStore, but
// refuses to create a SQLite store: only `trail serve` creates one. A
// mistyped --data would otherwise get a new empty store, and a key created
// there fails with 401 and no hint.
func openExistingStore(cfg Config) (trail.Store, error) {
	if cfg.Store == "" {
		if err := storeExists(cfg.Data); err != nil {
			return nil, err
		}
	}
	return OpenStore(cfg)
}

// storeExists returns an error naming the folder when data folder dir
// holds no SQLite store.
func storeExists(dir string) error {
	path := DBPath(dir)
	_, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		shown := dir
		if abs, err := filepath.Abs(dir); err == nil {
			shown = abs
		}
		return fmt.Errorf("no Trail store in %s (looked for %s): pass the --data folder that trail serve uses (or TRAIL_DATA); only trail serve creates a store", shown, filepath.Base(path))
	}
	if err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	return nil
}

// usage prints a command's own flags and, of the serve settings it also
// accepts, only those in show: listing all of serve's flags under every
// command hid the few that matter there.
func (cf *configFlags) usage(w io.Writer, show ...string) {
	keep := map[string]bool{"config": true}
	for _, name := range show {
		keep[name] = true
	}
	own := flag.NewFlagSet("", flag.ContinueOnError)
	own.SetOutput(w)
	cf.fs.VisitAll(func(f *flag.Flag) {
		if !cf.settings[f.Name] || keep[f.Name] {
			own.Var(f.Value, f.Name, f.Usage)
		}
	})
	own.PrintDefaults()
	fmt.Fprintln(w, "\nIt also takes every setting of trail serve (see trail serve -h), so --config finds the same store.")
}

// pubkeyFolderExists refuses `trail ledger pubkey` on a data folder that
// holds neither a signing key nor a store: creating a key there would print
// a key that verifies nothing.
func pubkeyFolderExists(cfg Config) error {
	if cfg.LedgerKey != "" || cfg.Store != "" {
		return nil
	}
	if _, err := os.Stat(LedgerKeyPath(cfg)); err == nil {
		return nil
	}
	return storeExists(cfg.Data)
}

// plural returns "1 log" or "2 logs".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
