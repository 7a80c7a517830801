package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// TestFileModes runs `trail serve` under umask 022 on a new data folder:
// the folder is 0700 and every file in it (trail.db, its -wal and -shm, the
// ledger and secrets keys) is 0600.
func TestFileModes(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	data := filepath.Join(t.TempDir(), "data")
	node := startServe(t, "--data", data)
	_, key := createKey(t, data, "--tenant", "acme", "--scopes", "events:write,events:read")
	if code, _, _ := post(t, node.URL, key, "modes", 5); code != 201 {
		t.Fatalf("ingest: status %d", code)
	}
	wantMode(t, data, 0o700)
	for _, name := range []string{"trail.db", "trail.db-wal", "trail.db-shm", "trail.db.index", "ledger.key", "secrets.key"} {
		wantMode(t, filepath.Join(data, name), 0o600)
	}
	entries, err := os.ReadDir(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			wantMode(t, filepath.Join(data, e.Name()), 0o600)
		}
	}
}

// TestExportFileMode runs `trail events export --output` under umask 077:
// the export is 0600 (it was forced to 0644).
func TestExportFileMode(t *testing.T) {
	envs, _ := eventsServer(t)
	file := filepath.Join(t.TempDir(), "export.csv")
	cmd := exec.Command("sh", "-c", `umask 077 && exec "$0" "$@"`, trailBin,
		"events", "export", "--format", "csv", "--output", file)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range envs {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("trail events export: %v\n%s", err, out)
	}
	wantMode(t, file, 0o600)
}

func wantMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s: mode %#o, want %#o", path, got, want)
	}
}
