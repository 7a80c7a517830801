package ledger_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/ledger"
)

// TestCanonicalizeRFC8785 checks the canonicalizer against the examples of
// RFC 8785 (section 3.2.2, section 3.2.3 and the structures example of its
// reference test data).
func TestCanonicalizeRFC8785(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"Values",
			`{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
			  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
			  "literals": [null, true, false]}`,
			`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`},
		{"Sorting",
			`{"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
			  "1": "One", "\ud83d\ude00": "Emoji: Grinning Face", "\u0080": "Control",
			  "\u00f6": "Latin Small Letter O With Diaeresis"}`,
			"{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\",\"\u00f6\":\"Latin Small Letter O With Diaeresis\"," +
				"\"\u20ac\":\"Euro Sign\",\"\U0001F600\":\"Emoji: Grinning Face\",\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}"},
		{"Structures",
			`{"1": {"f": {"f": "hi","F": 5} ,"\n": 56.0}, "10": { }, "": "empty", "a": { }, "111": [ { } ], "A": { }}`,
			`{"":"empty","1":{"\n":56,"f":{"F":5,"f":"hi"}},"10":{},"111":[{}],"A":{},"a":{}}`},
		{"Escapes", `"\u0000\u001f\u007f</script>&"`, `"\u0000\u001f` + "\u007f" + `</script>&"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ledger.Canonicalize([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestCanonicalizeNumbers checks the number serialization of RFC 8785
// appendix B: each IEEE 754 value must print exactly as the RFC says.
func TestCanonicalizeNumbers(t *testing.T) {
	tests := []struct {
		bits uint64
		want string
	}{
		{0x0000000000000000, "0"},
		{0x8000000000000000, "0"},
		{0x0000000000000001, "5e-324"},
		{0x8000000000000001, "-5e-324"},
		{0x7fefffffffffffff, "1.7976931348623157e+308"},
		{0xffefffffffffffff, "-1.7976931348623157e+308"},
		{0x4340000000000000, "9007199254740992"},
		{0xc340000000000000, "-9007199254740992"},
		{0x4430000000000000, "295147905179352830000"},
		{0x44b52d02c7e14af5, "9.999999999999997e+22"},
		{0x44b52d02c7e14af6, "1e+23"},
		{0x44b52d02c7e14af7, "1.0000000000000001e+23"},
		{0x444b1ae4d6e2ef4e, "999999999999999700000"},
		{0x444b1ae4d6e2ef4f, "999999999999999900000"},
		{0x444b1ae4d6e2ef50, "1e+21"},
		{0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"},
		{0x3eb0c6f7a0b5ed8d, "0.000001"},
		{0x41b3de4355555553, "333333333.3333332"},
		{0x41b3de4355555554, "333333333.33333325"},
		{0x41b3de4355555555, "333333333.3333333"},
		{0x41b3de4355555556, "333333333.3333334"},
		{0x41b3de4355555557, "333333333.33333343"},
		{0xbecbf647612f3696, "-0.0000033333333333333333"},
		{0x43143ff3c1cb0959, "1424953923781206.2"},
	}
	for _, tt := range tests {
		f := math.Float64frombits(tt.bits)
		in := strconv.FormatFloat(f, 'g', -1, 64) // any exact spelling of f
		got, err := ledger.Canonicalize([]byte(in))
		if err != nil {
			t.Fatalf("%#x (%s): %v", tt.bits, in, err)
		}
		if string(got) != tt.want {
			t.Errorf("%#x (%s): got %s, want %s", tt.bits, in, got, tt.want)
		}
	}
}

func TestCanonicalizeNotIJSON(t *testing.T) {
	t.Run("DuplicateNames", func(t *testing.T) {
		a, err1 := ledger.Canonicalize([]byte(`{"b":1,"a":2,"a":1}`))
		b, err2 := ledger.Canonicalize([]byte(`{"a":1,"a":2,"b":1}`))
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("member order changes the canonical form: %s vs %s", a, b)
		}
	})
	t.Run("LoneSurrogate", func(t *testing.T) {
		got, err := ledger.Canonicalize([]byte(`{"a":"\ud800x"}`))
		if err != nil {
			t.Fatal(err)
		}
		if want := "{\"a\":\"\ufffdx\"}"; string(got) != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})
	t.Run("ErrSyntax", func(t *testing.T) {
		if _, err := ledger.Canonicalize([]byte(`{"a":`)); err == nil {
			t.Error("truncated JSON canonicalized without error")
		}
	})
}

func sampleEvent() *trail.Event {
	at := time.Date(2026, 11, 23, 12, 0, 0, 123456000, time.UTC)
	return &trail.Event{
		ID: "019ab0c1-2d3e-7f40-8a1b-2c3d4e5f6a7b", Tenant: "acme", Seq: 7, Pos: 99,
		Action: "user.created", OccurredAt: at, ReceivedAt: at.Add(time.Second),
		Actor:    trail.Actor{Type: "user", ID: "u1", Name: "Ann <admin>"},
		Targets:  []trail.Target{{Type: "user", ID: "u2", Metadata: json.RawMessage(`{"z":1,"a":2.50}`)}},
		Context:  trail.Context{IP: "192.0.2.1"},
		Metadata: json.RawMessage(`{"plan":"pro"}`),
		Version:  1,
	}
}

// TestLeafHash pins the documented leaf encoding (docs/ledger.md): the
// canonical JSON below is written by hand from the rules, not produced by
// the code under test.
func TestLeafHash(t *testing.T) {
	want := `{"action":"user.created","actor":{"id":"u1","name":"Ann <admin>","type":"user"},` +
		`"context":{"ip":"192.0.2.1"},"id":"019ab0c1-2d3e-7f40-8a1b-2c3d4e5f6a7b",` +
		`"metadata":{"plan":"pro"},"occurred_at":"2026-11-23T12:00:00.123456Z",` +
		`"received_at":"2026-11-23T12:00:01.123456Z","seq":7,` +
		`"targets":[{"id":"u2","metadata":{"a":2.5,"z":1},"type":"user"}],"tenant":"acme","version":1}`
	data, err := ledger.LeafData(sampleEvent())
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != want {
		t.Fatalf("leaf data:\ngot  %s\nwant %s", data, want)
	}
	got, err := ledger.LeafHash(sampleEvent())
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(append([]byte{0}, want...))
	if !bytes.Equal(got, sum[:]) {
		t.Errorf("leaf hash %x, want sha256(0x00 || data) = %x", got, sum)
	}
	t.Run("PosIsNotPartOfTheLeaf", func(t *testing.T) {
		e := sampleEvent()
		e.Pos = 12345
		h, _ := ledger.LeafHash(e)
		if !bytes.Equal(h, got) {
			t.Error("changing Pos changed the leaf")
		}
	})
	t.Run("EveryFieldCounts", func(t *testing.T) {
		for name, edit := range map[string]func(*trail.Event){
			"action": func(e *trail.Event) { e.Action = "user.deleted" },
			"seq":    func(e *trail.Event) { e.Seq = 8 },
			"tenant": func(e *trail.Event) { e.Tenant = "other" },
			"meta":   func(e *trail.Event) { e.Targets[0].Metadata = json.RawMessage(`{"z":2,"a":2.5}`) },
		} {
			e := sampleEvent()
			edit(e)
			if h, _ := ledger.LeafHash(e); bytes.Equal(h, got) {
				t.Errorf("editing %s left the leaf unchanged", name)
			}
		}
	})
}

func TestKey(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/" + ledger.KeyFile
	// Many keys, so that base64 with '+' in it is among them.
	for i := 0; i < 50; i++ {
		skey, err := ledger.GenerateKey("trail.test")
		if err != nil {
			t.Fatal(err)
		}
		k, err := ledger.ParseKey(skey)
		if err != nil {
			t.Fatalf("parse %s: %v", skey, err)
		}
		msg, err := ledger.SignCheckpoint(ledger.Checkpoint{Origin: "trail.test/acme", Size: 1, Root: make([]byte, 32)}, k.Signer())
		if err != nil {
			t.Fatal(err)
		}
		v, err := ledger.ParseVerifier(k.VerifierKey())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ledger.OpenCheckpoint(msg, v); err != nil {
			t.Fatalf("key %d: checkpoint does not verify with its own verifier: %v", i, err)
		}
	}
	t.Run("LoadOrCreate", func(t *testing.T) {
		k1, err := ledger.LoadOrCreateKey(path, "trail.test")
		if err != nil {
			t.Fatal(err)
		}
		k2, err := ledger.LoadOrCreateKey(path, "other.name")
		if err != nil {
			t.Fatal(err)
		}
		if k1.VerifierKey() != k2.VerifierKey() {
			t.Errorf("second start made a new key: %s vs %s", k1.VerifierKey(), k2.VerifierKey())
		}
		if !strings.HasPrefix(k1.VerifierKey(), "trail.test+") {
			t.Errorf("verifier key %q is not named trail.test", k1.VerifierKey())
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
		}
	})
	t.Run("ErrNotAKey", func(t *testing.T) {
		if _, err := ledger.ParseKey("trail.test+01234567+AQID"); err == nil {
			t.Error("a verifier key parsed as a signer key")
		}
	})
}
