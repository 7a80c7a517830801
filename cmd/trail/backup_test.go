package main_test

import (
	"archive/tar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trailhq/trail/client"
	"github.com/trailhq/trail/internal/testenv"
)

// TestBackupUnderLoad backs up a real server's store while clients ingest,
// restores the backup into a new folder, starts a server on it, and checks
// that every event acknowledged before the backup began is there, that the
// ledger key came along (same public key) and that trail verify passes.
func TestBackupUnderLoad(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "trail-data")
	srv := startServe(t, "--data", data)
	_, key := createKey(t, data, "--tenant", "acme", "--scopes", "events:write,events:read")
	pub, _ := runBin(t, nil, "ledger", "pubkey", "--data", data)
	in := ingest(client.New(srv.URL, key), 3, 20)
	testenv.Eventually(t, 20*time.Second, "in.count.Load() >= 600", func() bool { return in.count.Load() >= 600 })

	in.mu.Lock()
	before := append([]string(nil), in.acked...)
	in.mu.Unlock()
	file := filepath.Join(dir, "trail.backup")
	out, _ := runBin(t, nil, "backup", "--data", data, "--output", file)
	if !strings.Contains(out, "ledger key included, secrets key included") {
		t.Errorf("backup printed %q", out)
	}
	// Ingest goes on after the backup; then the server stops.
	after := in.count.Load()
	testenv.Eventually(t, 20*time.Second, "in.count.Load() >= after+100", func() bool { return in.count.Load() >= after+100 })
	srv.cmd.Process.Signal(syscall.SIGTERM)
	in.wait()
	srv.wait(t)
	if names := tarNames(t, file); strings.Join(names, ",") != "trail-backup.json,trail.db,ledger.key,secrets.key" {
		t.Errorf("the backup holds %v", names)
	}

	restored := filepath.Join(dir, "restored")
	runBin(t, nil, "restore", "--input", file, "--data", restored)
	if got, _ := runBin(t, nil, "ledger", "pubkey", "--data", restored); got != pub {
		t.Errorf("restored ledger key %q, want %q", got, pub)
	}
	srv2 := startServe(t, "--data", restored)
	stored := exportIDs(t, client.New(srv2.URL, key))
	missing := 0
	for _, id := range before {
		if !stored[id] {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d events acknowledged before the backup are missing from it", missing, len(before))
	}
	t.Logf("%d events acknowledged before the backup, %d in it", len(before), len(stored))
	// The restored server seals what the backup held; then verify passes.
	pub = strings.TrimSpace(pub)
	testenv.Eventually(t, 20*time.Second, "trail verify to pass on the restored copy", func() bool {
		cmd := exec.Command(trailBin, "verify", "--data", restored, "--pubkey", pub)
		out, err := cmd.CombinedOutput()
		return err == nil && strings.Contains(string(out), "ok:")
	})
}

// TestBackupKeepsSecretsKey backs up a store holding a forwarder with a
// token, restores it into a new folder and starts a server there: the
// backup carries the secrets key that opens the token, so the restored
// server starts and still holds the forwarder (without the key it refused
// to start). --no-secrets-key leaves the key out, with warnings from
// backup and restore that name where to put it.
func TestBackupKeepsSecretsKey(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "trail-data")
	srv := startServe(t, "--data", data)
	_, key := createKey(t, data, "--tenant", "acme", "--scopes", "admin,events:write,events:read")
	body := `{"name":"siem","kind":"webhook","uri":"https://siem.acme.example/audit","token":"s3cret-token"}`
	if code, out := httpDo(t, "POST", srv.URL+"/v1/forwarders", key, body); code != 201 {
		t.Fatalf("create forwarder: %d %s", code, out)
	}
	file := filepath.Join(dir, "with.tar")
	runBin(t, nil, "backup", "--data", data, "--output", file)
	bare := filepath.Join(dir, "bare.tar")
	_, warn := runBin(t, nil, "backup", "--data", data, "--output", bare, "--no-secrets-key")
	if !strings.Contains(warn, "secrets key") || !strings.Contains(warn, filepath.Join(data, "secrets.key")) {
		t.Errorf("backup --no-secrets-key warned %q", warn)
	}
	srv.cmd.Process.Signal(syscall.SIGTERM)
	srv.wait(t)

	restored := filepath.Join(dir, "restored")
	runBin(t, nil, "restore", "--input", file, "--data", restored)
	srv2 := startServe(t, "--data", restored)
	if code, out := httpDo(t, "GET", srv2.URL+"/v1/forwarders/siem", key, ""); code != 200 {
		t.Errorf("restored forwarder: %d %s", code, out)
	}

	_, warn = runBin(t, nil, "restore", "--input", bare, "--data", filepath.Join(dir, "bare"))
	if want := filepath.Join(dir, "bare", "secrets.key"); !strings.Contains(warn, "no secrets key") || !strings.Contains(warn, want) {
		t.Errorf("restore of a backup without the secrets key warned %q, want it to name %s", warn, want)
	}
}

// TestRestoreRefuses checks that restore never overwrites a store and
// refuses files that are not backups.
func TestRestoreRefuses(t *testing.T) {
	data := newData(t)
	file := filepath.Join(t.TempDir(), "b.tar")
	runBin(t, nil, "backup", "--data", data, "--output", file)
	r := runCLI(t, nil, false, "restore", "--input", file, "--data", data)
	if r.code != 1 || !strings.Contains(r.stderr, "already holds a store") {
		t.Errorf("restore over a store: exit %d, %q", r.code, r.stderr)
	}
	junk := filepath.Join(t.TempDir(), "junk")
	os.WriteFile(junk, []byte("not a backup"), 0o600)
	target := filepath.Join(t.TempDir(), "new")
	r = runCLI(t, nil, false, "restore", "--input", junk, "--data", target)
	if r.code != 1 || !strings.Contains(r.stderr, "not a trail backup") {
		t.Errorf("restore of junk: exit %d, %q", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(target, "trail.db")); !os.IsNotExist(err) {
		t.Errorf("a failed restore left a store: %v", err)
	}
	r = runCLI(t, nil, false, "backup", "--data", newData(t), "--output", filepath.Join(t.TempDir(), "x"), "--no-ledger-key")
	if r.code != 0 || !strings.Contains(r.stderr, "not in the backup") {
		t.Errorf("backup --no-ledger-key: exit %d, stderr %q", r.code, r.stderr)
	}
	r = runCLI(t, nil, false, "backup", "--data", filepath.Join(t.TempDir(), "nope"), "--output", file+"2")
	if r.code != 1 || !strings.Contains(r.stderr, "no Trail store in") {
		t.Errorf("backup of a missing store: exit %d, %q", r.code, r.stderr)
	}
}

func tarNames(tb testing.TB, path string) []string {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var names []string
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		names = append(names, h.Name)
	}
	return names
}
