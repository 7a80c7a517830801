package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/httpapi"
	"github.com/trailhq/trail/internal/teststore"
	"github.com/trailhq/trail/ledger"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// newLedgerEnv starts the API with a ledger whose sequencer runs in the
// background, as trail serve runs it.
func newLedgerEnv(t *testing.T, s trail.Store, opts ...func(*httpapi.Config)) *env {
	t.Helper()
	key, err := ledger.LoadOrCreateKey(filepath.Join(t.TempDir(), ledger.KeyFile), "trail.test")
	if err != nil {
		t.Fatal(err)
	}
	ls, ok := s.(ledger.Store)
	if !ok {
		t.Fatalf("%T is not a ledger store", s)
	}
	led, err := ledger.New(ls, ledger.Config{Key: key, Origin: "trail.test"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); led.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return newEnv(t, s, append([]func(*httpapi.Config){func(c *httpapi.Config) { c.Ledger = led }}, opts...)...)
}

// openCheckpoint fetches a log's checkpoint and opens it with sumdb/note
// and the public key that GET /v1/ledger/pubkey serves without a key.
func openCheckpoint(t *testing.T, e *env, secret, query string) ledger.Checkpoint {
	t.Helper()
	vkey := e.do(t, "GET", "/v1/ledger/pubkey", "", "").want(t, 200)
	v, err := note.NewVerifier(strings.TrimSpace(string(vkey.body)))
	if err != nil {
		t.Fatal(err)
	}
	r := e.do(t, "GET", "/v1/ledger/checkpoint?"+query, secret, "").want(t, 200)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("checkpoint content type %q", ct)
	}
	n, err := note.Open(r.body, note.VerifierList(v))
	if err != nil {
		t.Fatalf("open checkpoint %q: %v", r.body, err)
	}
	cp, err := ledger.ParseCheckpoint(n.Text)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.header.Get("Trail-Tree-Size"); got != strconv.FormatInt(cp.Size, 10) {
		t.Errorf("Trail-Tree-Size %q, checkpoint size %d", got, cp.Size)
	}
	return cp
}

func TestLedgerAPI(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newLedgerEnv(t, s)
		acme := e.newKey(t, "acme", false, trail.ScopeEventsWrite, trail.ScopeEventsRead)
		ids := e.ingest(t, acme, batch(event("user.created"), event("user.login"), event("user.logout")))
		// The checkpoint is on demand: it covers what was just ingested.
		cp := openCheckpoint(t, e, acme, "")
		if cp.Origin != "trail.test/acme" || cp.Size != 3 {
			t.Fatalf("checkpoint %s size %d, want trail.test/acme size 3", cp.Origin, cp.Size)
		}
		t.Run("Proof", func(t *testing.T) {
			// The customer's way: hash the event JSON the API returns.
			body := e.do(t, "GET", "/v1/events/"+ids[1], acme, "").want(t, 200).body
			canon, err := ledger.Canonicalize(body)
			if err != nil {
				t.Fatal(err)
			}
			p := decode[ledger.InclusionProof](t, e.do(t, "GET", "/v1/events/"+ids[1]+"/proof", acme, "").want(t, 200))
			leaf := rfc6962.DefaultHasher.HashLeaf(canon)
			if !bytes.Equal(p.LeafHash, leaf) || p.TreeSize != 3 || p.Checkpoint == "" {
				t.Fatalf("proof %+v", p)
			}
			if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(p.LeafIndex), 3, leaf, p.Hashes, cp.Root); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("Consistency", func(t *testing.T) {
			old := cp
			e.ingest(t, acme, batch(event("user.created"), event("user.created")))
			cur := openCheckpoint(t, e, acme, "log=acme")
			p := decode[ledger.ConsistencyProof](t, e.do(t, "GET", "/v1/ledger/consistency?from=3", acme, "").want(t, 200))
			if p.To != cur.Size || cur.Size != 5 {
				t.Fatalf("consistency to %d, checkpoint size %d, want 5", p.To, cur.Size)
			}
			if err := proof.VerifyConsistency(rfc6962.DefaultHasher, 3, 5, p.Hashes, old.Root, cur.Root); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("SystemLog", func(t *testing.T) {
			cp := openCheckpoint(t, e, e.platform, "")
			if cp.Origin != "trail.test/~system" {
				t.Errorf("platform key's default log %q, want the system log", cp.Origin)
			}
		})
		t.Run("Errors", func(t *testing.T) {
			e.do(t, "GET", "/v1/events/"+ids[0]+"/proof?tree_size=0", acme, "").wantError(t, 400, trail.EINVALID, "tree_size")
			e.do(t, "GET", "/v1/events/"+ids[2]+"/proof?tree_size=2", acme, "").wantError(t, 400, trail.EINVALID, "tree_size")
			e.do(t, "GET", "/v1/events/"+ids[0]+"/proof?tree_size=99", acme, "").wantError(t, 400, trail.EINVALID, "tree_size")
			e.do(t, "GET", "/v1/events/"+ids[0]+"/proof?size=2", acme, "").wantError(t, 400, trail.EINVALID, "size")
			e.do(t, "GET", "/v1/ledger/consistency", acme, "").wantError(t, 400, trail.EINVALID, "from")
			e.do(t, "GET", "/v1/ledger/consistency?from=4&to=3", acme, "").wantError(t, 400, trail.EINVALID, "from")
			e.do(t, "GET", "/v1/ledger/checkpoint?log=globex", acme, "").wantError(t, 404, trail.ENOTFOUND, "")
			e.do(t, "GET", "/v1/ledger/checkpoint?log=a/b", acme, "").wantError(t, 400, trail.EINVALID, "log")
			e.do(t, "GET", "/v1/ledger/tiles?tile=x", acme, "").wantError(t, 400, trail.EINVALID, "tile")
			e.do(t, "GET", "/v1/ledger/checkpoint", "", "").want(t, 401)
			other := e.newKey(t, "globex", false, trail.ScopeEventsRead)
			e.do(t, "GET", "/v1/events/"+ids[0]+"/proof", other, "").wantError(t, 404, trail.ENOTFOUND, "")
		})
		t.Run("Tiles", func(t *testing.T) {
			// tile repeats, 1 to 200 times, as trail verify --server sends it.
			r := e.do(t, "GET", "/v1/ledger/tiles?log=acme&tile=0/0&tile=1/0&tile=0%2F1", acme, "").want(t, 200)
			var got struct{ Tiles []struct{ Level int } }
			if err := json.Unmarshal(r.body, &got); err != nil || len(got.Tiles) != 2 || got.Tiles[0].Level != 0 {
				t.Fatalf("tiles %s: %v", r.body, err)
			}
			many := "/v1/ledger/tiles?" + strings.Repeat("tile=0/0&", 200)
			e.do(t, "GET", many, acme, "").want(t, 200)
			e.do(t, "GET", many+"tile=0/1", acme, "").wantError(t, 400, trail.EINVALID, "tile")
			e.do(t, "GET", "/v1/ledger/tiles", acme, "").wantError(t, 400, trail.EINVALID, "tile")
			e.do(t, "GET", "/v1/ledger/tiles?tile=0/0;", acme, "").wantError(t, 400, trail.EINVALID, "tile")
			e.do(t, "GET", "/v1/ledger/tiles?tile=0/0&tile=", acme, "").wantError(t, 400, trail.EINVALID, "tile")
			e.do(t, "GET", "/v1/ledger/tiles?tile=0/0&log=acme&log=acme", acme, "").wantError(t, 400, trail.EINVALID, "log")
			e.do(t, "GET", "/v1/ledger/tiles?tile=0/0&tiles=0/1", acme, "").wantError(t, 400, trail.EINVALID, "tiles")
			e.do(t, "GET", "/v1/ledger/tiles?tile=0/0&log=globex", acme, "").wantError(t, 404, trail.ENOTFOUND, "")
			e.do(t, "GET", "/v1/ledger/tiles?tile=%zz", acme, "").wantError(t, 400, trail.EINVALID, "tile")
		})
		t.Run("PubkeyOfLog", func(t *testing.T) {
			vkey := strings.TrimSpace(string(e.do(t, "GET", "/v1/ledger/pubkey?log=acme", "", "").want(t, 200).body))
			v, err := note.NewVerifier(vkey)
			if err != nil || v.Name() != "trail.test/acme" {
				t.Fatalf("log key %q: %v", vkey, err)
			}
			cp := e.do(t, "GET", "/v1/ledger/checkpoint", acme, "").want(t, 200).body
			if _, err := note.Open(cp, note.VerifierList(v)); err != nil {
				t.Fatalf("the log's key does not open its checkpoint: %v", err)
			}
			sys := strings.TrimSpace(string(e.do(t, "GET", "/v1/ledger/pubkey?log=~system", "", "").want(t, 200).body))
			if !strings.HasPrefix(sys, "trail.test/~system+") {
				t.Errorf("system log key %q", sys)
			}
			e.do(t, "GET", "/v1/ledger/pubkey?log=a/b", "", "").wantError(t, 400, trail.EINVALID, "log")
			e.do(t, "GET", "/v1/ledger/pubkey?log=acme&log=x", "", "").wantError(t, 400, trail.EINVALID, "log")
			e.do(t, "GET", "/v1/ledger/pubkey?x=1", "", "").wantError(t, 400, trail.EINVALID, "x")
		})
		t.Run("RemoteVerify", func(t *testing.T) {
			v, _ := ledger.ParseVerifier(strings.TrimSpace(string(e.do(t, "GET", "/v1/ledger/pubkey", "", "").body)))
			ver := &ledger.Verifier{Source: &ledger.Remote{URL: e.srv.URL, APIKey: acme}, Key: v, Origin: "trail.test"}
			reports, err := ver.VerifyAll(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if len(reports) != 1 || !reports[0].OK() || reports[0].Checked != 5 {
				t.Fatalf("remote verify: %+v", reports)
			}
		})
		t.Run("Bundle", func(t *testing.T) {
			b := e.do(t, "GET", "/v1/events/export?format=bundle", acme, "").want(t, 200).body
			v, _ := ledger.ParseVerifier(strings.TrimSpace(string(e.do(t, "GET", "/v1/ledger/pubkey", "", "").body)))
			r, err := ledger.VerifyBundle(bytes.NewReader(b), v)
			if err != nil {
				t.Fatal(err)
			}
			// The export's own audit event (export.downloaded) is recorded
			// before the export reads, so it may be in the bundle too.
			if !r.OK() || r.Events < 5 {
				t.Fatalf("bundle report %+v", r)
			}
		})
	})
}

func TestLedgerAPIWithoutLedger(t *testing.T) {
	e := newEnv(t, teststore.SQLite(t))
	e.do(t, "GET", "/v1/ledger/checkpoint", e.platform, "").wantError(t, 503, trail.EUNAVAILABLE, "")
	e.do(t, "GET", "/v1/events/export?format=bundle", e.platform, "").wantError(t, 503, trail.EUNAVAILABLE, "")
}
