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
