package ledger_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/ledger"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

// bundle exports every event of acme and the system log into a bundle. The
// log grows between two events of acme, so acme's checkpoint is refreshed
// inside the bundle with a consistency proof.
func bundle(t *testing.T) (*env, []byte) {
	t.Helper()
	e := newEnv(t, ledger.Config{})
	appendEvents(t, e.db, "acme", 10)
	appendEvents(t, e.db, trail.SystemTenant, 2)
	e.sequence(t)
	var buf bytes.Buffer
	bw, err := e.led.NewBundle(&buf)
	if err != nil {
		t.Fatal(err)
	}
	add := func(tenant string, from int64, n int) {
		evs, err := e.db.LogEvents(ctxT(t), tenant, from, n)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if err := bw.Add(ctxT(t), ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	add("acme", 0, 10)
	add(trail.SystemTenant, 0, 10)
	appendEvents(t, e.db, "acme", 5)
	e.sequence(t)
	add("acme", 10, 5)
	return e, buf.Bytes()
}

func verifier(t *testing.T, e *env) note.Verifier {
	t.Helper()
	v, err := ledger.ParseVerifier(e.key.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestBundle(t *testing.T) {
	e, b := bundle(t)
	t.Run("Verifies", func(t *testing.T) {
		r, err := ledger.VerifyBundle(bytes.NewReader(b), verifier(t, e))
		if err != nil {
			t.Fatal(err)
		}
		if !r.OK() || r.Events != 17 || len(r.Checkpoints) != 3 {
			t.Fatalf("report %+v, want 17 events under 3 checkpoints", r)
		}
	})
	t.Run("StandardTools", func(t *testing.T) {
		// Check every line with sumdb/note and transparency-dev/merkle
		// alone, recomputing leaves as docs/ledger.md tells customers to.
		roots := map[string][]byte{}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var line struct {
				Checkpoint string
				Event      json.RawMessage
				Proof      *ledger.InclusionProof
			}
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				t.Fatal(err)
			}
			if line.Checkpoint != "" {
				n, err := note.Open([]byte(line.Checkpoint), note.VerifierList(verifier(t, e)))
				if err != nil {
					t.Fatal(err)
				}
				cp, _ := ledger.ParseCheckpoint(n.Text)
				roots[lastElem(cp.Origin)+"/"+itoa(cp.Size)] = cp.Root
			}
			if line.Event != nil {
				var ev trail.Event
				json.Unmarshal(line.Event, &ev)
				canon, err := ledger.Canonicalize(line.Event)
				if err != nil {
					t.Fatal(err)
				}
				leaf := rfc6962.DefaultHasher.HashLeaf(canon)
				root := roots[lastElem(ledger.LogOrigin("", ev.Tenant))+"/"+itoa(line.Proof.TreeSize)]
				err = proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(ev.Seq), uint64(line.Proof.TreeSize), leaf, line.Proof.Hashes, root)
				if err != nil {
					t.Errorf("event %s: %v", ev.ID, err)
				}
			}
		}
	})
	t.Run("ErrEventEdited", func(t *testing.T) {
		lines := strings.Split(string(b), "\n")
		var target int
		for i, l := range lines {
			if strings.Contains(l, `"seq":4,`) && strings.Contains(l, `"tenant":"acme"`) {
				target = i
			}
		}
		lines[target] = strings.Replace(lines[target], `"action":"user.login"`, `"action":"user.logout"`, 1)
		r, err := ledger.VerifyBundle(strings.NewReader(strings.Join(lines, "\n")), verifier(t, e))
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Problems) != 1 || r.Problems[0].Seq != 4 || r.Problems[0].Kind != ledger.KindModified {
			t.Fatalf("problems %v, want seq 4 modified", r.Problems)
		}
	})
	t.Run("ErrWrongKey", func(t *testing.T) {
		other := newEnv(t, ledger.Config{})
		r, err := ledger.VerifyBundle(bytes.NewReader(b), verifier(t, other))
		if err != nil {
			t.Fatal(err)
		}
		if r.OK() || r.Events != 0 {
			t.Fatalf("a bundle verified with another key: %+v", r)
		}
	})
	t.Run("ErrNotABundle", func(t *testing.T) {
		if _, err := ledger.VerifyBundle(strings.NewReader("{}\n"), verifier(t, e)); err == nil {
			t.Error("a file without a bundle header verified")
		}
	})
}

func lastElem(s string) string { return s[strings.LastIndexByte(s, '/')+1:] }

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
