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

// mutateLine decodes a bundle line into its members, lets f change them
// and encodes it again.
func mutateLine(t *testing.T, line string, f func(m map[string]json.RawMessage)) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// setIn sets member name of the object in m[field] to value (JSON); a nil
// value deletes it.
func setIn(t *testing.T, m map[string]json.RawMessage, field, name string, value any) {
	t.Helper()
	var inner map[string]json.RawMessage
	if err := json.Unmarshal(m[field], &inner); err != nil {
		t.Fatal(err)
	}
	if value == nil {
		delete(inner, name)
	} else {
		b, _ := json.Marshal(value)
		inner[name] = b
	}
	m[field], _ = json.Marshal(inner)
}

// TestBundleEveryField changes each field of a bundle, one at a time:
// each change fails verification, except those of the fields that
// docs/ledger.md calls informational (created_at to another valid time,
// the optional header fields removed).
func TestBundleEveryField(t *testing.T) {
	e, b := bundle(t)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	// Lines: 0 header, 1 acme's checkpoint, 2.. acme's events, then the
	// system log's checkpoint and events, then acme's refreshed checkpoint.
	find := func(pred func(string) bool) int {
		for i, l := range lines {
			if pred(l) {
				return i
			}
		}
		t.Fatal("no such line")
		return -1
	}
	firstCP := find(func(l string) bool { return strings.HasPrefix(l, `{"checkpoint"`) })
	refresh := find(func(l string) bool { return strings.Contains(l, `"consistency"`) })
	ev := find(func(l string) bool { return strings.Contains(l, `"seq":4,`) && strings.Contains(l, `"tenant":"acme"`) })
	otherKey := newEnv(t, ledger.Config{}).key.VerifierKey()
	flip := func(b64 string) string { // another valid base64 hash
		if b64[0] == 'A' {
			return "B" + b64[1:]
		}
		return "A" + b64[1:]
	}
	firstHash := func(m map[string]json.RawMessage, field string) []string {
		var inner struct{ Hashes []string }
		json.Unmarshal(m[field], &inner)
		return inner.Hashes
	}
	for _, tc := range []struct {
		name string
		line int
		f    func(m map[string]json.RawMessage)
		ok   bool
	}{
		{"Unchanged", ev, func(m map[string]json.RawMessage) {}, true},
		{"HeaderVerifierKeyOther", 0, func(m map[string]json.RawMessage) { m["verifier_key"], _ = json.Marshal(otherKey) }, false},
		{"HeaderVerifierKeyGarbage", 0, func(m map[string]json.RawMessage) { m["verifier_key"] = []byte(`"x+y"`) }, false},
		{"HeaderVerifierKeyRemoved", 0, func(m map[string]json.RawMessage) { delete(m, "verifier_key") }, true},
		{"HeaderCreatedAtOtherTime", 0, func(m map[string]json.RawMessage) { m["created_at"] = []byte(`"2001-01-01T00:00:00Z"`) }, true},
		{"HeaderCreatedAtGarbage", 0, func(m map[string]json.RawMessage) { m["created_at"] = []byte(`"yesterday"`) }, false},
		{"HeaderUnknownField", 0, func(m map[string]json.RawMessage) { m["signed_by"] = []byte(`"me"`) }, false},
		{"CheckpointEdited", firstCP, func(m map[string]json.RawMessage) {
			var cp string
			json.Unmarshal(m["checkpoint"], &cp)
			m["checkpoint"], _ = json.Marshal(strings.Replace(cp, "\n1", "\n9", 1))
		}, false},
		{"CheckpointWithConsistencyFromNothing", firstCP, func(m map[string]json.RawMessage) {
			m["consistency"] = []byte(`{"from":0,"to":10,"hashes":[]}`)
		}, false},
		{"CheckpointUnknownField", firstCP, func(m map[string]json.RawMessage) { m["note"] = []byte(`1`) }, false},
		{"ConsistencyRemoved", refresh, func(m map[string]json.RawMessage) { delete(m, "consistency") }, false},
		{"ConsistencyFrom", refresh, func(m map[string]json.RawMessage) { setIn(t, m, "consistency", "from", 9) }, false},
		{"ConsistencyTo", refresh, func(m map[string]json.RawMessage) { setIn(t, m, "consistency", "to", 16) }, false},
		{"ConsistencyHashes", refresh, func(m map[string]json.RawMessage) {
			h := firstHash(m, "consistency")
			h[0] = flip(h[0])
			setIn(t, m, "consistency", "hashes", h)
		}, false},
		{"ConsistencyUnknownField", refresh, func(m map[string]json.RawMessage) { setIn(t, m, "consistency", "checkpoint", "x") }, false},
		{"EventEdited", ev, func(m map[string]json.RawMessage) {
			m["event"] = []byte(strings.Replace(string(m["event"]), `"action":"user.login"`, `"action":"user.logout"`, 1))
		}, false},
		{"EventNotAnObject", ev, func(m map[string]json.RawMessage) { m["event"] = []byte(`[]`) }, false},
		{"ProofLeafIndex", ev, func(m map[string]json.RawMessage) { setIn(t, m, "proof", "leaf_index", 5) }, false},
		{"ProofTreeSize", ev, func(m map[string]json.RawMessage) { setIn(t, m, "proof", "tree_size", 9) }, false},
		{"ProofLeafHash", ev, func(m map[string]json.RawMessage) {
			var p struct {
				LeafHash string `json:"leaf_hash"`
			}
			json.Unmarshal(m["proof"], &p)
			setIn(t, m, "proof", "leaf_hash", flip(p.LeafHash))
		}, false},
		{"ProofLeafHashRemoved", ev, func(m map[string]json.RawMessage) { setIn(t, m, "proof", "leaf_hash", nil) }, false},
		{"ProofHashes", ev, func(m map[string]json.RawMessage) {
			h := firstHash(m, "proof")
			h[0] = flip(h[0])
			setIn(t, m, "proof", "hashes", h)
		}, false},
		{"ProofUnknownField", ev, func(m map[string]json.RawMessage) { setIn(t, m, "proof", "checkpoint", "x") }, false},
		{"ProofRemoved", ev, func(m map[string]json.RawMessage) { delete(m, "proof") }, false},
		{"EventLineWithCheckpoint", ev, func(m map[string]json.RawMessage) {
			var cp map[string]json.RawMessage
			json.Unmarshal([]byte(lines[firstCP]), &cp)
			m["checkpoint"] = cp["checkpoint"]
		}, false},
		{"EventLineWithHeader", ev, func(m map[string]json.RawMessage) { m["bundle"] = []byte(`"x"`) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			edited := append([]string(nil), lines...)
			edited[tc.line] = mutateLine(t, lines[tc.line], tc.f)
			r, err := ledger.VerifyBundle(strings.NewReader(strings.Join(edited, "\n")), verifier(t, e))
			if err != nil {
				t.Fatal(err)
			}
			if r.OK() != tc.ok {
				t.Fatalf("OK() = %v, want %v; problems %v\nline: %s", r.OK(), tc.ok, r.Problems, edited[tc.line])
			}
		})
	}
	t.Run("DuplicateField", func(t *testing.T) {
		edited := append([]string(nil), lines...)
		edited[ev] = strings.Replace(lines[ev], `"proof":{`, `"proof":{"leaf_index":0,`, 1)
		r, _ := ledger.VerifyBundle(strings.NewReader(strings.Join(edited, "\n")), verifier(t, e))
		if r.OK() {
			t.Fatalf("a proof with leaf_index twice verified:\n%s", edited[ev])
		}
	})
	// A bundle lists each event once: a repeated event line would count
	// one event twice in "N events proven".
	t.Run("EventRepeated", func(t *testing.T) {
		edited := append(append([]string(nil), lines...), lines[ev])
		r, _ := ledger.VerifyBundle(strings.NewReader(strings.Join(edited, "\n")), verifier(t, e))
		if r.OK() {
			t.Fatalf("a bundle with one event line twice verified: %d events", r.Events)
		}
	})
	t.Run("ErrHeaderFormat", func(t *testing.T) {
		edited := append([]string(nil), lines...)
		edited[0] = strings.Replace(lines[0], ledger.BundleFormat, "trail-evidence-bundle/v2", 1)
		if _, err := ledger.VerifyBundle(strings.NewReader(strings.Join(edited, "\n")), verifier(t, e)); err == nil {
			t.Fatal("a bundle of another format verified")
		}
	})
}
