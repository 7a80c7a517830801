package main_test

import (
	"database/sql"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"
	main "github.com/trailhq/trail/cmd/trail"
)

// ledgerGet sends GET url with key and returns the body of a 200.
func ledgerGet(t *testing.T, url, key string) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", url, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}

// TestLedgerCLI runs the server, then every ledger command against it:
// pubkey, verify of the data folder and through the API, an evidence
// bundle exported and checked offline, and verify after the database was
// edited behind Trail's back.
func TestLedgerCLI(t *testing.T) {
	m := startMain(t)
	data := m.Config.Data
	_, key := createKey(t, data, "--tenant", "acme", "--scopes", "events:write,events:read")
	if code, _, _ := post(t, m.URL(), key, "doc", 6); code != 201 {
		t.Fatalf("ingest: %d", code)
	}
	pubkey := strings.TrimSpace(mustCLI(t, nil, "ledger", "pubkey", "--data", data))
	if served := strings.TrimSpace(ledgerGet(t, m.URL()+"/v1/ledger/pubkey", "")); served != pubkey {
		t.Fatalf("trail ledger pubkey printed %q, the API serves %q", pubkey, served)
	}
	// The checkpoint is on demand: once it answers, the events are sealed:
	// the six posted and api_key.created, which keys create recorded.
	if cp := ledgerGet(t, m.URL()+"/v1/ledger/checkpoint", key); !strings.HasPrefix(cp, "trail.local/acme\n7\n") {
		t.Fatalf("checkpoint %q, want trail.local/acme of size 7", cp)
	}
	t.Run("VerifyData", func(t *testing.T) {
		out := mustCLI(t, nil, "verify", "--data", data, "--pubkey", pubkey)
		if !strings.Contains(out, "trail.local/acme: checkpoint size 7, 7 events verified") || !strings.Contains(out, "ok:") {
			t.Errorf("verify printed:\n%s", out)
		}
	})
	t.Run("VerifyServer", func(t *testing.T) {
		out := mustCLI(t, nil, "verify", "--server", m.URL(), "--key", key, "--pubkey", pubkey)
		if !strings.Contains(out, "trail.local/acme: checkpoint size 7, 7 events verified") || !strings.Contains(out, "ok: 1 log verified") {
			t.Errorf("verify --server printed:\n%s", out)
		}
		r := runCLI(t, nil, false, "verify", "--server", m.URL(), "--key", key)
		if r.code != 2 || !strings.Contains(r.stderr, "--pubkey") {
			t.Errorf("verify --server without --pubkey: exit %d, %s", r.code, r.stderr)
		}
	})
	t.Run("Bundle", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "evidence.jsonl")
		mustCLI(t, nil, "events", "export", "--server", m.URL(), "--key", key, "--format", "bundle", "--output", file)
		out := mustCLI(t, nil, "verify", "--bundle", file, "--pubkey", pubkey)
		if !strings.Contains(out, "ok: ") {
			t.Errorf("verify --bundle printed:\n%s", out)
		}
		b, _ := os.ReadFile(file)
		edited := strings.Replace(string(b), `"action":"document.updated"`, `"action":"document.deleted"`, 1)
		os.WriteFile(file, []byte(edited), 0o600)
		r := runCLI(t, nil, false, "verify", "--bundle", file, "--pubkey", pubkey)
		if r.code != 1 || !strings.Contains(r.stderr, "modified") {
			t.Errorf("verify of an edited bundle: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("Tampered", func(t *testing.T) {
		raw, err := sql.Open("sqlite3", main.DBPath(data))
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		if _, err := raw.Exec(`DELETE FROM events WHERE tenant = 'acme' AND seq = 2`); err != nil {
			t.Fatal(err)
		}
		r := runCLI(t, nil, false, "verify", "--data", data, "--pubkey", pubkey)
		if r.code != 1 || !strings.Contains(r.stderr, "seq 2: missing") {
			t.Errorf("verify after a delete: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("ErrWrongKey", func(t *testing.T) {
		other := strings.TrimSpace(mustCLI(t, nil, "ledger", "pubkey", "--data", newData(t)))
		r := runCLI(t, nil, false, "verify", "--data", data, "--pubkey", other, "--log", "acme")
		if r.code != 1 || !strings.Contains(r.stderr, "does not verify") {
			t.Errorf("verify with another key: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
}

func TestLedgerOriginInvalid(t *testing.T) {
	m := main.NewMain()
	m.Getenv = env(nil)
	m.Stderr = io.Discard
	if err := m.ParseFlags([]string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--ledger-origin", "my audit"}); err != nil {
		t.Fatal(err)
	}
	err := m.Run(t.Context())
	m.Close()
	if err == nil || !strings.Contains(err.Error(), "--ledger-origin") {
		t.Fatalf("Run with --ledger-origin 'my audit': %v, want an error naming --ledger-origin", err)
	}
}
