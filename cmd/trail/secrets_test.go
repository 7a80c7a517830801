package main_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
	main "github.com/trailhq/trail/cmd/trail"
)

// TestSecretsRotate stores a forwarder through the CLI's store, runs
// `trail secrets rotate`, and checks that the token never shows in the
// file, that the key changed, and that the store reads it back.
func TestSecretsRotate(t *testing.T) {
	cfg := main.DefaultConfig()
	cfg.Data = t.TempDir()
	at := time.Now().UTC().Truncate(time.Microsecond)
	f := &trail.Forwarder{ID: trail.NewID(at), Tenant: "acme", Name: "siem", Kind: trail.ForwarderWebhook,
		URI: "https://siem.example.com/in", Token: "tok-0b7d9e", Secret: "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0",
		Batch: trail.BatchConfig{Size: 1}, Start: trail.StartNow, ManagedBy: trail.ManagedByAPI, CreatedAt: at, UpdatedAt: at}
	withStore(t, cfg, func(s trail.ForwarderStore) {
		if err := s.CreateForwarder(context.Background(), f, 0); err != nil {
			t.Fatal(err)
		}
	})
	before := rawSettings(t, main.DBPath(cfg.Data))
	if strings.Contains(before, "tok-0b7d9e") {
		t.Fatalf("the token is stored in plain text: %s", before)
	}
	keyBefore, _ := os.ReadFile(filepath.Join(cfg.Data, "secrets.key"))

	out := mustCLI(t, nil, "secrets", "rotate", "--data", cfg.Data)
	if !regexp.MustCompile(`rotated: key [0-9a-f]{16} encrypts 1 stored secrets`).MatchString(out) {
		t.Errorf("rotate printed %q", out)
	}
	after := rawSettings(t, main.DBPath(cfg.Data))
	if after == before || strings.Contains(after, "tok-0b7d9e") {
		t.Errorf("after rotate the row is unchanged or plain: %s", after)
	}
	keyAfter, _ := os.ReadFile(filepath.Join(cfg.Data, "secrets.key"))
	if string(keyAfter) == string(keyBefore) || strings.Count(string(keyAfter), "trail-secrets-key ") != 1 {
		t.Errorf("key file after rotate:\n%s\nbefore:\n%s", keyAfter, keyBefore)
	}
	withStore(t, cfg, func(s trail.ForwarderStore) {
		got, err := s.Forwarder(context.Background(), "acme", "siem")
		if err != nil || got.Token != f.Token || got.Secret != f.Secret {
			t.Errorf("after rotate: %+v, %v", got, err)
		}
	})
}

func withStore(t *testing.T, cfg main.Config, fn func(trail.ForwarderStore)) {
	t.Helper()
	s, err := main.OpenStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := main.UseSecrets(cfg, s); err != nil {
		t.Fatal(err)
	}
	fn(s.(trail.ForwarderStore))
}

// rawSettings reads the forwarders' stored settings as a SQL client does.
func rawSettings(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var s string
	if err := db.QueryRow("SELECT CAST(settings AS TEXT) FROM forwarders").Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSecretsInit makes a shared secrets key file with `trail secrets
// init`: 0600, left as it is when run again, and used by a server pointed
// at it instead of one made beside the ledger key.
func TestSecretsInit(t *testing.T) {
	file := filepath.Join(t.TempDir(), "shared", "secrets.key")
	mustCLI(t, nil, "secrets", "init", "--secrets-key", file)
	first, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Errorf("secrets key mode %v, want 0600", fi.Mode().Perm())
	}
	mustCLI(t, nil, "secrets", "init", "--secrets-key", file)
	if again, _ := os.ReadFile(file); string(again) != string(first) {
		t.Error("a second secrets init changed the existing key file")
	}
	if r := runCLI(t, nil, false, "secrets", "init"); r.code != 2 || !strings.Contains(r.stderr, "--secrets-key") {
		t.Errorf("secrets init without --secrets-key: exit %d, stderr %q; want 2 naming --secrets-key", r.code, r.stderr)
	}
	data := t.TempDir()
	startServe(t, "--data", data, "--secrets-key", file)
	if _, err := os.Stat(filepath.Join(data, "secrets.key")); !os.IsNotExist(err) {
		t.Errorf("serve with --secrets-key made its own key in the data folder (stat: %v)", err)
	}
	if now, _ := os.ReadFile(file); string(now) != string(first) {
		t.Error("serve changed the shared secrets key file")
	}
}
