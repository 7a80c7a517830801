package ledger_test

import (
	"crypto/rand"
	"strings"
	"testing"

	"github.com/trailhq/trail/ledger"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// TestCheckpointKeyName checks that a checkpoint carries a signature by a
// key named after its origin line, as C2SP tlog-checkpoint asks, and still
// one under the deployment's name, which keys pinned before verify.
func TestCheckpointKeyName(t *testing.T) {
	e := newEnv(t, ledger.Config{})
	appendEvents(t, e.db, "acme", 3)
	e.sequence(t)
	head, err := e.db.LedgerHead(ctxT(t), "acme")
	if err != nil {
		t.Fatal(err)
	}
	logKey, err := e.key.LogVerifierKey("trail.test/acme")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(logKey, "trail.test/acme+") {
		t.Fatalf("log key %q is not named after the origin", logKey)
	}
	for _, vkey := range []string{logKey, e.key.VerifierKey()} {
		v, err := note.NewVerifier(vkey)
		if err != nil {
			t.Fatal(err)
		}
		n, err := note.Open(head.Checkpoint, note.VerifierList(v))
		if err != nil {
			t.Fatalf("open with %s: %v\n%s", vkey, err, head.Checkpoint)
		}
		if len(n.Sigs) != 1 || !strings.HasPrefix(n.Text, "trail.test/acme\n3\n") {
			t.Fatalf("note %+v", n)
		}
	}
	// The signature named after the origin comes first.
	if sig := strings.SplitN(string(head.Checkpoint), "\n\n", 2)[1]; !strings.HasPrefix(sig, "— trail.test/acme ") {
		t.Errorf("first signature line %q, want the key named trail.test/acme", sig)
	}
}

// TestWitnessCosigns shows how a third-party witness cosigns Trail's
// checkpoints, with golang.org/x/mod/sumdb/note alone, as docs/ledger.md
// describes: the witness pins the log's key (trail ledger pubkey --log, or
// GET /v1/ledger/pubkey?log=), whose name is the checkpoint's origin;
// opens each new checkpoint with it; checks that it extends the last one
// it cosigned; and adds its own signature. Clients then require both
// signatures, and Trail's own verifier still accepts the cosigned note.
func TestWitnessCosigns(t *testing.T) {
	e := newEnv(t, ledger.Config{})
	appendEvents(t, e.db, "acme", 5)
	e.sequence(t)
	logVkey, err := e.key.LogVerifierKey(ledger.LogOrigin(origin, "acme"))
	if err != nil {
		t.Fatal(err)
	}
	logV, err := note.NewVerifier(logVkey)
	if err != nil {
		t.Fatal(err)
	}
	wskey, wvkey, err := note.GenerateKey(rand.Reader, "witness.example.org")
	if err != nil {
		t.Fatal(err)
	}
	witness, err := note.NewSigner(wskey)
	if err != nil {
		t.Fatal(err)
	}
	witnessV, err := note.NewVerifier(wvkey)
	if err != nil {
		t.Fatal(err)
	}

	// cosign is the witness: open with the log's key, check the origin is
	// the key's name, check consistency with the last size it saw, sign.
	var lastSize int64
	var lastRoot []byte
	cosign := func(msg []byte) []byte {
		t.Helper()
		n, err := note.Open(msg, note.VerifierList(logV))
		if err != nil {
			t.Fatalf("witness: open: %v", err)
		}
		cp, err := ledger.ParseCheckpoint(n.Text)
		if err != nil || cp.Origin != logV.Name() {
			t.Fatalf("witness: checkpoint %+v of origin other than the key's name %q: %v", cp, logV.Name(), err)
		}
		if lastRoot != nil {
			p, err := e.led.ConsistencyProof(ctxT(t), "acme", lastSize, cp.Size)
			if err != nil {
				t.Fatal(err)
			}
			if err := proof.VerifyConsistency(rfc6962.DefaultHasher, uint64(lastSize), uint64(cp.Size), p.Hashes, lastRoot, cp.Root); err != nil {
				t.Fatalf("witness: not consistent: %v", err)
			}
		}
		lastSize, lastRoot = cp.Size, cp.Root
		out, err := note.Sign(n, witness)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	head, _ := e.db.LedgerHead(ctxT(t), "acme")
	cosign(head.Checkpoint)
	appendEvents(t, e.db, "acme", 300)
	e.sequence(t)
	head, _ = e.db.LedgerHead(ctxT(t), "acme")
	cosigned := cosign(head.Checkpoint)

	// A client that requires the log's and the witness's signatures.
	n, err := note.Open(cosigned, note.VerifierList(logV, witnessV))
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Sigs) != 2 || n.Sigs[0].Name != "trail.test/acme" || n.Sigs[1].Name != "witness.example.org" {
		t.Fatalf("cosigned note signatures %+v", n.Sigs)
	}
	// Trail's verifier, with the deployment's key as pinned before, accepts
	// the cosigned checkpoint as a kept one (trail verify --since).
	v, err := ledger.ParseVerifier(e.key.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	if cp, err := ledger.OpenCheckpoint(cosigned, v); err != nil || cp.Size != 305 {
		t.Fatalf("OpenCheckpoint(cosigned): %+v, %v", cp, err)
	}
	appendEvents(t, e.db, "acme", 2)
	e.sequence(t)
	ver := e.led.Verifier()
	ver.Key, ver.Since = v, [][]byte{cosigned}
	r, err := ver.VerifyLog(ctxT(t), "acme")
	if err != nil || !r.OK() || r.Size != 307 {
		t.Fatalf("verify since the cosigned checkpoint: %+v, %v", r, err)
	}
	// A witness's signature alone is not Trail's.
	wOnly, _ := note.Sign(&note.Note{Text: n.Text}, witness)
	if _, err := ledger.OpenCheckpoint(wOnly, v); err == nil {
		t.Fatal("a checkpoint signed by the witness only opened with Trail's key")
	}
	// Checkpoints signed before (under the deployment's name only) still
	// verify: the migration keeps them valid.
	old, err := ledger.SignCheckpoint(ledger.Checkpoint{Origin: "trail.test/acme", Size: 5, Root: mustRoot(t, e, 5)}, e.key.Signer())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.OpenCheckpoint(old, v); err != nil {
		t.Fatalf("a checkpoint signed the old way: %v", err)
	}
	ver.Since = [][]byte{old}
	if r, err := ver.VerifyLog(ctxT(t), "acme"); err != nil || !r.OK() {
		t.Fatalf("verify since an old-style checkpoint: %+v, %v", r, err)
	}
}

// mustRoot returns the root of acme's tree of size n, from the inclusion
// proof of its first event.
func mustRoot(t *testing.T, e *env, n int64) []byte {
	t.Helper()
	evs, err := e.db.LogEvents(ctxT(t), "acme", 0, 1)
	if err != nil || len(evs) == 0 {
		t.Fatal(err)
	}
	p, err := e.led.InclusionProof(ctxT(t), evs[0], n)
	if err != nil {
		t.Fatal(err)
	}
	root, err := proof.RootFromInclusionProof(rfc6962.DefaultHasher, 0, uint64(n), p.LeafHash, p.Hashes)
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestVerifyWithLogKey: a log's own key verifies that log, and VerifyAll
// with it leaves the other logs alone instead of failing them.
func TestVerifyWithLogKey(t *testing.T) {
	e := newEnv(t, ledger.Config{})
	appendEvents(t, e.db, "acme", 3)
	appendEvents(t, e.db, "", 2)
	appendEvents(t, e.db, "globex", 2)
	e.sequence(t)
	vkey, err := e.key.LogVerifierKey("trail.test/acme")
	if err != nil {
		t.Fatal(err)
	}
	v := e.led.Verifier()
	if v.Key, err = ledger.ParseVerifier(vkey); err != nil {
		t.Fatal(err)
	}
	reports, err := v.VerifyAll(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(reports) != 1 || reports[0].Tenant != "acme" || !reports[0].OK() || reports[0].Checked != 3 {
		t.Fatalf("reports %+v", reports)
	}
}

// TestVerifyWithLogKeySinceOtherLog: a log's own key checks that log only,
// also when a kept checkpoint of another log (signed by the same key under
// that log's name) is given: the run must not widen to the other log, so
// that trail verify can refuse the --since file as one of a log it did not
// verify (exit status 2), as docs/ledger.md says.
func TestVerifyWithLogKeySinceOtherLog(t *testing.T) {
	e := newEnv(t, ledger.Config{})
	appendEvents(t, e.db, "acme", 3)
	appendEvents(t, e.db, "globex", 2)
	e.sequence(t)
	vkey, err := e.key.LogVerifierKey("trail.test/acme")
	if err != nil {
		t.Fatal(err)
	}
	head, err := e.db.LedgerHead(ctxT(t), "globex")
	if err != nil {
		t.Fatal(err)
	}
	v := e.led.Verifier()
	if v.Key, err = ledger.ParseVerifier(vkey); err != nil {
		t.Fatal(err)
	}
	v.Since = [][]byte{head.Checkpoint}
	reports, err := v.VerifyAll(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(reports) != 1 || reports[0].Tenant != "acme" {
		t.Fatalf("reports %+v, want acme's only", reports)
	}
}
