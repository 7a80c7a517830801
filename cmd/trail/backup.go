package main

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/sqlite"
)

// A backup is a tar file of up to four members, in this order: the
// manifest, the SQLite store, the ledger's signing key and the secrets key,
// each key when it is included. Without its secrets key a restored store's
// forwarder tokens and webhook secrets cannot be opened, and trail serve
// refuses to start on it.
const (
	backupManifest   = "trail-backup.json"
	backupDB         = "trail.db"
	backupKey        = "ledger.key"
	backupSecretsKey = "secrets.key"
)

// BackupManifest describes a backup file.
type BackupManifest struct {
	Format       int       `json:"format"` // 1
	TrailVersion string    `json:"trail_version"`
	CreatedAt    time.Time `json:"created_at"`
	LedgerKey    bool      `json:"ledger_key"`
	SecretsKey   bool      `json:"secrets_key,omitempty"`
}

// backupKeys are the key files that go into a backup beside the store.
type backupKeys struct {
	ledger, secrets []byte
}

const backupUsage = `Usage:
  trail backup --data DIR --output FILE [--no-ledger-key] [--no-secrets-key]
  trail restore --input FILE --data DIR

backup copies the SQLite store of the data folder into FILE (a tar file)
while trail serve runs and ingests: the copy holds the store as of one
commit, so every event acknowledged before the backup began is in it. The
ledger's signing key goes in too, unless --no-ledger-key (then keep the key
safe apart: without it the restored server signs with a new key, and old
checkpoints verify only with the old public key). So does the secrets key
that encrypts forwarder tokens and webhook secrets, unless --no-secrets-key
(then keep it safe apart: a restored server needs it to start). FILE is
written under a temporary name and renamed when complete.

restore unpacks a backup into a data folder that holds no store yet, after
checking the copy; start trail serve on that folder afterwards. Stores on
PostgreSQL are backed up with PostgreSQL's tools (docs/operations.md).
`

// runBackup runs `trail backup`.
func runBackup(ctx context.Context, env *Env, args []string) error {
	fs := flag.NewFlagSet("trail backup", flag.ContinueOnError)
	var cf *configFlags
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprint(env.Stderr, backupUsage, "\nFlags of trail backup:\n")
		cf.usage(env.Stderr, "data", "ledger-key", "secrets-key")
	}
	cf = addConfigFlags(fs)
	output := fs.String("output", "", "the backup `file` to write (required)")
	noKey := fs.Bool("no-ledger-key", false, "leave the ledger's signing key out of the backup")
	noSecrets := fs.Bool("no-secrets-key", false, "leave the secrets key out of the backup")
	cfg, err := parseStoreCommand(fs, cf, env, args, "backup")
	if err != nil {
		return err
	}
	if *output == "" {
		return usageErrorf("backup: --output FILE is required")
	}
	if cfg.Store != "" {
		return fmt.Errorf("backup: --store is PostgreSQL: back it up with pg_basebackup or pg_dump (see docs/operations.md)")
	}
	if err := storeExists(cfg.Data); err != nil {
		return err
	}
	var keys backupKeys
	if keys.ledger, err = backupKeyBytes(LedgerKeyPath(cfg), "ledger key", *noKey, env); err != nil {
		return err
	}
	if keys.secrets, err = backupKeyBytes(SecretsKeyPath(cfg), "secrets key", *noSecrets, env); err != nil {
		return err
	}
	start := time.Now()
	n, err := writeBackup(ctx, cfg, keys, *output)
	if err != nil {
		return err
	}
	included := map[bool]string{true: "included", false: "NOT included"}
	fmt.Fprintf(env.Stdout, "Backed up %s to %s (%d bytes, in %s); ledger key %s, secrets key %s.\n", DBPath(cfg.Data), *output, n,
		time.Since(start).Round(time.Millisecond), included[keys.ledger != nil], included[keys.secrets != nil])
	return nil
}

// parseStoreCommand parses the flags of a command that takes no arguments
// and loads the settings.
func parseStoreCommand(fs *flag.FlagSet, cf *configFlags, env *Env, args []string, name string) (Config, error) {
	pos, err := parseFlags(fs, args)
	if err != nil {
		return Config{}, err
	}
	if len(pos) > 0 {
		return Config{}, usageErrorf("%s: unexpected argument %q", name, pos[0])
	}
	return cf.load(env.Getenv)
}

// backupKeyBytes reads the key file at path (the ledger or secrets key,
// as name says) for the backup, or warns that it is not included.
func backupKeyBytes(path, name string, noKey bool, env *Env) ([]byte, error) {
	if noKey {
		fmt.Fprintf(env.Stderr, "trail: warning: the %s (%s) is not in the backup: keep it safe apart\n", name, path)
		return nil, nil
	}
	key, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(env.Stderr, "trail: warning: no %s at %s, so none is in the backup\n", name, path)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("backup: read the %s: %w", name, err)
	}
	return key, nil
}

// writeBackup copies the store into a temporary file, packs it with the
// manifest and keys into output (under a temporary name, renamed when
// complete and synced) and returns the size of the backup file.
func writeBackup(ctx context.Context, cfg Config, keys backupKeys, output string) (int64, error) {
	tmpDir, err := os.MkdirTemp(filepath.Dir(output), ".trail-backup-")
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	defer os.RemoveAll(tmpDir)
	copyPath := filepath.Join(tmpDir, backupDB)
	if err := sqlite.Backup(ctx, DBPath(cfg.Data), copyPath); err != nil {
		return 0, err
	}
	manifest, _ := json.Marshal(BackupManifest{Format: 1, TrailVersion: trail.Version,
		CreatedAt: time.Now().UTC(), LedgerKey: keys.ledger != nil, SecretsKey: keys.secrets != nil})
	tarPath := filepath.Join(tmpDir, "backup.tar")
	f, err := os.OpenFile(tarPath, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	err = errors.Join(
		addTarBytes(tw, backupManifest, manifest),
		addTarFile(tw, backupDB, copyPath),
	)
	if err == nil && keys.ledger != nil {
		err = addTarBytes(tw, backupKey, keys.ledger)
	}
	if err == nil && keys.secrets != nil {
		err = addTarBytes(tw, backupSecretsKey, keys.secrets)
	}
	if err = errors.Join(err, tw.Close(), f.Sync()); err != nil {
		return 0, fmt.Errorf("backup: write %s: %w", output, err)
	}
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if err := os.Rename(tarPath, output); err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	return st.Size(), syncDir(filepath.Dir(output))
}

func addTarBytes(tw *tar.Writer, name string, b []byte) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(b)), ModTime: time.Now()}); err != nil {
		return err
	}
	_, err := tw.Write(b)
	return err
}

func addTarFile(tw *tar.Writer, name, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: st.Size(), ModTime: st.ModTime()}); err != nil {
		return err
	}
	_, err = io.Copy(tw, f)
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// runRestore runs `trail restore`.
func runRestore(ctx context.Context, env *Env, args []string) error {
	fs := flag.NewFlagSet("trail restore", flag.ContinueOnError)
	var cf *configFlags
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprint(env.Stderr, backupUsage, "\nFlags of trail restore:\n")
		cf.usage(env.Stderr, "data", "ledger-key", "secrets-key")
	}
	cf = addConfigFlags(fs)
	input := fs.String("input", "", "the backup `file` to restore (required)")
	cfg, err := parseStoreCommand(fs, cf, env, args, "restore")
	if err != nil {
		return err
	}
	if *input == "" {
		return usageErrorf("restore: --input FILE is required")
	}
	if cfg.Store != "" {
		return fmt.Errorf("restore: --store is PostgreSQL: restore it with PostgreSQL's tools (see docs/operations.md)")
	}
	if _, err := os.Stat(DBPath(cfg.Data)); err == nil {
		return fmt.Errorf("restore: %s already holds a store: restore into an empty folder, or move the old one away first", cfg.Data)
	}
	m, err := restoreBackup(ctx, cfg, *input)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Restored the backup of %s into %s.\n", m.CreatedAt.Format(time.RFC3339), cfg.Data)
	if !m.LedgerKey {
		fmt.Fprintf(env.Stderr, "trail: warning: the backup holds no ledger key: put the old key at %s before trail serve starts, or it creates a new one\n", LedgerKeyPath(cfg))
	}
	if !m.SecretsKey {
		fmt.Fprintf(env.Stderr, "trail: warning: the backup holds no secrets key: put the old key at %s before trail serve starts, or it cannot open stored forwarder and webhook secrets\n", SecretsKeyPath(cfg))
	}
	return nil
}

// restoreBackup unpacks the backup into cfg's data folder: the store under
// a temporary name, checked, then renamed; the keys where cfg wants them.
func restoreBackup(ctx context.Context, cfg Config, input string) (*BackupManifest, error) {
	f, err := os.Open(input)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	tmp := DBPath(cfg.Data) + ".restore"
	defer os.Remove(tmp)
	var m *BackupManifest
	var keys backupKeys
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("restore: %s is not a trail backup: %w", input, err)
		}
		switch h.Name {
		case backupManifest:
			m = &BackupManifest{}
			if err := json.NewDecoder(io.LimitReader(tr, 1<<20)).Decode(m); err != nil || m.Format != 1 {
				return nil, fmt.Errorf("restore: %s: unknown backup format", input)
			}
		case backupDB:
			if err := writeFileFrom(tmp, tr); err != nil {
				return nil, fmt.Errorf("restore: %w", err)
			}
		case backupKey:
			if keys.ledger, err = io.ReadAll(io.LimitReader(tr, 1<<20)); err != nil {
				return nil, fmt.Errorf("restore: %w", err)
			}
		case backupSecretsKey:
			if keys.secrets, err = io.ReadAll(io.LimitReader(tr, 1<<20)); err != nil {
				return nil, fmt.Errorf("restore: %w", err)
			}
		}
	}
	if m == nil {
		return nil, fmt.Errorf("restore: %s is not a trail backup (no %s)", input, backupManifest)
	}
	if err := sqlite.Check(ctx, tmp); err != nil {
		return nil, fmt.Errorf("restore: the backup's store is damaged or missing: %w", err)
	}
	if keys.ledger != nil {
		if err := restoreKey(LedgerKeyPath(cfg), "ledger key", keys.ledger); err != nil {
			return nil, err
		}
	}
	if keys.secrets != nil {
		if err := restoreKey(SecretsKeyPath(cfg), "secrets key", keys.secrets); err != nil {
			return nil, err
		}
	}
	if err := os.Rename(tmp, DBPath(cfg.Data)); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	return m, syncDir(cfg.Data)
}

// restoreKey writes one of the backup's keys (name says which), unless the
// same key is there already; a different key is never overwritten.
func restoreKey(path, name string, key []byte) error {
	old, err := os.ReadFile(path)
	if err == nil {
		if bytes.Equal(old, key) {
			return nil
		}
		return fmt.Errorf("restore: %s holds another %s: move it away first", path, name)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := writeFileFrom(path, bytes.NewReader(key)); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	return nil
}

// writeFileFrom writes r into a new private file at path, synced.
func writeFileFrom(path string, r io.Reader) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	return errors.Join(err, f.Sync(), f.Close())
}
