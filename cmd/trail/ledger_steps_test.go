package main_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	main "github.com/trailhq/trail/cmd/trail"
	"github.com/trailhq/trail/internal/pgtest"
	"github.com/trailhq/trail/ledger"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// openNote opens a checkpoint with sumdb/note and the verifier key vkey,
// and parses its body the way docs/ledger.md tells a customer to: with
// nothing from Trail.
func openNote(t *testing.T, msg []byte, vkey string) (origin string, size int64, root []byte) {
	t.Helper()
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		t.Fatalf("open checkpoint with %s: %v\n%s", vkey, err, msg)
	}
	lines := strings.Split(n.Text, "\n")
	size, err = strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	if root, err = base64.StdEncoding.DecodeString(lines[2]); err != nil {
		t.Fatal(err)
	}
	return lines[0], size, root
}

// saveFile writes content to a new file and returns its path.
func saveFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLedgerCustomerSteps follows every step of "How a customer verifies,
// step by step" in docs/ledger.md against a running server: pin the key,
// keep a checkpoint, check consistency by hand and with trail verify
// --since, check an event by hand, verify the whole log through the API
// and on the data, and check an evidence bundle offline.
func TestLedgerCustomerSteps(t *testing.T) {
	m := startMain(t)
	data := m.Config.Data
	_, key := createKey(t, data, "--tenant", "acme", "--scopes", "events:write,events:read")
	if code, _, _ := post(t, m.URL(), key, "a", 6); code != 201 {
		t.Fatalf("ingest: %d", code)
	}

	// 1. Pin the public key: the CLI and the API agree, for the
	// deployment and for one log.
	pinned := strings.TrimSpace(mustCLI(t, nil, "ledger", "pubkey", "--data", data))
	if served := strings.TrimSpace(ledgerGet(t, m.URL()+"/v1/ledger/pubkey", "")); served != pinned {
		t.Fatalf("trail ledger pubkey printed %q, the API serves %q", pinned, served)
	}
	logKey := strings.TrimSpace(mustCLI(t, nil, "ledger", "pubkey", "--data", data, "--log", "acme"))
	if served := strings.TrimSpace(ledgerGet(t, m.URL()+"/v1/ledger/pubkey?log=acme", "")); served != logKey {
		t.Fatalf("trail ledger pubkey --log acme printed %q, the API serves %q", logKey, served)
	}
	if !strings.HasPrefix(logKey, "trail.local/acme+") {
		t.Fatalf("the log's key %q is not named after its origin trail.local/acme", logKey)
	}

	// 2. Keep a checkpoint: it opens with either key.
	kept := ledgerGet(t, m.URL()+"/v1/ledger/checkpoint", key)
	origin, m0, oldRoot := openNote(t, []byte(kept), pinned)
	if _, _, r := openNote(t, []byte(kept), logKey); string(r) != string(oldRoot) || origin != "trail.local/acme" {
		t.Fatalf("origin %q", origin)
	}
	keptFile := saveFile(t, "kept.note", kept)

	// The log grows: enough that a consistency proof needs several tiles.
	for i := range 3 {
		if code, _, _ := post(t, m.URL(), key, "b"+strconv.Itoa(i), 100); code != 201 {
			t.Fatalf("ingest: %d", code)
		}
	}
	cur := ledgerGet(t, m.URL()+"/v1/ledger/checkpoint", key)
	_, n, newRoot := openNote(t, []byte(cur), pinned)

	t.Run("3.ConsistencyByHand", func(t *testing.T) {
		var p struct {
			From, To int64
			Hashes   [][]byte
		}
		body := ledgerGet(t, m.URL()+"/v1/ledger/consistency?from="+strconv.FormatInt(m0, 10)+"&to="+strconv.FormatInt(n, 10), key)
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			t.Fatal(err)
		}
		if err := proof.VerifyConsistency(rfc6962.DefaultHasher, uint64(m0), uint64(n), p.Hashes, oldRoot, newRoot); err != nil {
			t.Fatalf("consistency %d -> %d: %v", m0, n, err)
		}
	})
	t.Run("3.VerifySince", func(t *testing.T) {
		out := mustCLI(t, nil, "verify", "--server", m.URL(), "--key", key, "--pubkey", pinned, "--since", keptFile)
		if !strings.Contains(out, "ok: 1 log verified") || strings.Contains(out, "rewritten") {
			t.Errorf("verify --server --since printed:\n%s", out)
		}
		out = mustCLI(t, nil, "verify", "--data", data, "--pubkey", pinned, "--since", keptFile, "--log", "acme")
		if !strings.Contains(out, "ok: 1 log verified") {
			t.Errorf("verify --data --since printed:\n%s", out)
		}
	})
	t.Run("4.EventByHand", func(t *testing.T) {
		var list struct {
			Events []struct {
				ID string `json:"id"`
			} `json:"events"`
		}
		if err := json.Unmarshal([]byte(ledgerGet(t, m.URL()+"/v1/events?limit=3", key)), &list); err != nil || len(list.Events) == 0 {
			t.Fatalf("list events: %v %+v", err, list)
		}
		id := list.Events[len(list.Events)-1].ID
		body := jsontext.Value(ledgerGet(t, m.URL()+"/v1/events/"+id, key))
		var p struct {
			LeafIndex  int64 `json:"leaf_index"`
			TreeSize   int64 `json:"tree_size"`
			Hashes     [][]byte
			Checkpoint string
		}
		if err := json.Unmarshal([]byte(ledgerGet(t, m.URL()+"/v1/events/"+id+"/proof", key)), &p); err != nil {
			t.Fatal(err)
		}
		// An RFC 8785 implementation other than Trail's.
		if err := body.Canonicalize(); err != nil {
			t.Fatal(err)
		}
		leaf := sha256.Sum256(append([]byte{0}, body...))
		_, size, root := openNote(t, []byte(p.Checkpoint), logKey)
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(p.LeafIndex), uint64(size), leaf[:], p.Hashes, root); err != nil {
			t.Fatalf("inclusion of %s: %v", id, err)
		}
	})
	t.Run("5.VerifyWholeLog", func(t *testing.T) {
		for _, args := range [][]string{
			{"verify", "--server", m.URL(), "--key", key, "--pubkey", pinned},
			{"verify", "--server", m.URL(), "--key", key, "--pubkey", logKey},
			{"verify", "--data", data, "--pubkey", pinned},
		} {
			if out := mustCLI(t, nil, args...); !strings.Contains(out, "ok: ") {
				t.Errorf("%v printed:\n%s", args, out)
			}
		}
	})
	t.Run("6.Bundle", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "evidence.jsonl")
		mustCLI(t, nil, "events", "export", "--server", m.URL(), "--key", key, "--format", "bundle", "--output", file)
		if out := mustCLI(t, nil, "verify", "--bundle", file, "--pubkey", pinned); !strings.Contains(out, "ok: ") {
			t.Errorf("verify --bundle printed:\n%s", out)
		}
		if out := mustCLI(t, nil, "verify", "--bundle", file, "--pubkey", logKey); !strings.Contains(out, "ok: ") {
			t.Errorf("verify --bundle with the log's key printed:\n%s", out)
		}
		// A header naming another key, or a proof's leaf_hash that is not
		// the event's leaf, is an edited bundle: exit status 1.
		b, _ := os.ReadFile(file)
		other := strings.TrimSpace(mustCLI(t, nil, "ledger", "pubkey", "--data", newData(t)))
		for name, edited := range map[string]string{
			"verifier_key": strings.Replace(string(b), pinned, other, 1),
			"leaf_hash":    strings.Replace(string(b), `"leaf_hash":"`, `"leaf_hash":"AAAA`, 1),
		} {
			bad := saveFile(t, "edited.jsonl", edited)
			r := runCLI(t, nil, false, "verify", "--bundle", bad, "--pubkey", pinned)
			if r.code != 1 || !strings.Contains(r.stderr, name) {
				t.Errorf("verify --bundle with %s edited: exit %d, want 1\nstdout: %s\nstderr: %s", name, r.code, r.stdout, r.stderr)
			}
		}
		r := runCLI(t, nil, false, "verify", "--bundle", filepath.Join(t.TempDir(), "none.jsonl"), "--pubkey", pinned)
		if r.code != 2 {
			t.Errorf("verify --bundle of a missing file: exit %d, want 2", r.code)
		}
	})

	t.Run("IngestInexactNumber", func(t *testing.T) {
		// A number that the leaf could not pin exactly is refused, naming
		// the field, and nothing is stored.
		before := ledgerGet(t, m.URL()+"/v1/ledger/checkpoint", key)
		body := `{"action":"payment.sent","occurred_at":"` + time.Now().UTC().Format(time.RFC3339Nano) +
			`","actor":{"type":"user","id":"u1"},"metadata":{"to_account_id":1234567890123456789}}`
		req, _ := http.NewRequestWithContext(t.Context(), "POST", m.URL()+"/v1/events", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(b), `"field":"metadata.to_account_id"`) ||
			!strings.Contains(string(b), "send it as a string") {
			t.Fatalf("POST with 1234567890123456789: %d %s", resp.StatusCode, b)
		}
		if after := ledgerGet(t, m.URL()+"/v1/ledger/checkpoint", key); after != before {
			t.Errorf("the log grew on a refused event:\n%s\n%s", before, after)
		}
	})

	// What is not evidence is an error with exit status 2, never 1.
	t.Run("ErrSinceFile", func(t *testing.T) {
		otherKey, err := ledger.LoadOrCreateKey(filepath.Join(t.TempDir(), "other.key"), "trail.local")
		if err != nil {
			t.Fatal(err)
		}
		forged, err := otherKey.SignCheckpoint(ledger.Checkpoint{Origin: "trail.local/acme", Size: m0, Root: oldRoot})
		if err != nil {
			t.Fatal(err)
		}
		system, _ := ledger.LoadKey(main.LedgerKeyPath(m.Config))
		sysCP, _ := system.SignCheckpoint(ledger.Checkpoint{Origin: "trail.local/~system", Size: 0, Root: rfc6962.DefaultHasher.EmptyRoot()})
		for name, tc := range map[string]struct{ file, want string }{
			"Empty":      {saveFile(t, "empty.note", ""), "empty"},
			"Blank":      {saveFile(t, "blank.note", "\n \n"), "empty"},
			"Missing":    {filepath.Join(t.TempDir(), "none.note"), "no such file"},
			"NotANote":   {saveFile(t, "garbage.note", "hello\n"), "not a checkpoint signed"},
			"OtherKey":   {saveFile(t, "forged.note", string(forged)), "not a checkpoint signed"},
			"Truncated":  {saveFile(t, "cut.note", kept[:len(kept)-20]), "not a checkpoint signed"},
			"NotChecked": {saveFile(t, "system.note", string(sysCP)), "not verified"},
		} {
			t.Run(name, func(t *testing.T) {
				// --log acme: the system log's checkpoint is then not checked.
				r := runCLI(t, nil, false, "verify", "--server", m.URL(), "--key", key, "--pubkey", pinned, "--log", "acme", "--since", tc.file)
				if r.code != 2 || !strings.Contains(r.stderr, "--since") || !strings.Contains(r.stderr, tc.want) {
					t.Errorf("exit %d, want 2 naming --since and %q\nstdout: %s\nstderr: %s", r.code, tc.want, r.stdout, r.stderr)
				}
			})
		}
	})
	t.Run("ErrTransport", func(t *testing.T) {
		// A proxy in front of the server fails every tile request: that is
		// an error, not a rewritten history.
		target, _ := url.Parse(m.URL())
		rp := httputil.NewSingleHostReverseProxy(target)
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v1/ledger/tiles" {
				http.Error(w, "bad gateway", http.StatusBadGateway)
				return
			}
			rp.ServeHTTP(w, r)
		}))
		defer proxy.Close()
		r := runCLI(t, nil, false, "verify", "--server", proxy.URL, "--key", key, "--pubkey", pinned, "--since", keptFile)
		if r.code != 2 || strings.Contains(r.stdout+r.stderr, "rewritten") || !strings.Contains(r.stderr, "502") {
			t.Errorf("verify through a failing proxy: exit %d, want 2\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
		proxy.Close()
		r = runCLI(t, nil, false, "verify", "--server", proxy.URL, "--key", key, "--pubkey", pinned)
		if r.code != 2 {
			t.Errorf("verify of a server that is down: exit %d, want 2\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("Rewritten", func(t *testing.T) {
		// A kept checkpoint, signed with the real key, that the log does
		// not extend: evidence, exit status 1.
		k, err := ledger.LoadKey(main.LedgerKeyPath(m.Config))
		if err != nil {
			t.Fatal(err)
		}
		fork := append([]byte(nil), oldRoot...)
		fork[0] ^= 1
		msg, _ := k.SignCheckpoint(ledger.Checkpoint{Origin: "trail.local/acme", Size: m0, Root: fork})
		r := runCLI(t, nil, false, "verify", "--server", m.URL(), "--key", key, "--pubkey", pinned, "--since", saveFile(t, "fork.note", string(msg)))
		if r.code != 1 || !strings.Contains(r.stdout, "history was rewritten") {
			t.Errorf("verify --since a forked checkpoint: exit %d, want 1\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
	})
}

// TestLedgerStepsPostgres runs steps 3 and 5 of docs/ledger.md against a
// real `trail serve` on PostgreSQL: trail verify --store and --server, each
// with a checkpoint kept from before.
func TestLedgerStepsPostgres(t *testing.T) {
	dsn := pgtest.NewDB(t)
	key := createStoreKey(t, dsn, "--tenant", "acme", "--scopes", "events:write,events:read")
	data := t.TempDir()
	node := startServe(t, "--store", dsn, "--data", data)
	if code, _, _ := post(t, node.URL, key, "a", 5); code != 201 {
		t.Fatalf("ingest: %d", code)
	}
	kept := saveFile(t, "kept.note", ledgerGet(t, node.URL+"/v1/ledger/checkpoint", key))
	for i := range 3 {
		if code, _, _ := post(t, node.URL, key, "b"+strconv.Itoa(i), 100); code != 201 {
			t.Fatalf("ingest: %d", code)
		}
	}
	ledgerGet(t, node.URL+"/v1/ledger/checkpoint", key) // waits until sealed
	pinned := strings.TrimSpace(mustCLI(t, nil, "ledger", "pubkey", "--data", data))
	for _, args := range [][]string{
		{"verify", "--store", dsn, "--pubkey", pinned, "--log", "acme", "--since", kept},
		{"verify", "--server", node.URL, "--key", key, "--pubkey", pinned, "--since", kept},
	} {
		if out := mustCLI(t, nil, args...); !strings.Contains(out, "ok: 1 log verified") {
			t.Errorf("%v printed:\n%s", args[:2], out)
		}
	}
}
