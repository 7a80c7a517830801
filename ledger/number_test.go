package ledger_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/ledger"
)

// storedEvent returns the stored JSON of an event ingested with body's
// metadata, as the store keeps it.
func storedEvent(t *testing.T, metadata string) []byte {
	t.Helper()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	body := `{"action":"payment.sent","occurred_at":"2026-11-23T11:59:00Z","actor":{"type":"user","id":"u1","name":"Ann <a&b>"},` +
		`"targets":[{"type":"account","id":"a1","metadata":{"k":-0.5}}],"metadata":` + metadata + `}`
	ins, err := trail.ParseEvents([]byte(body), now)
	if err != nil {
		t.Fatal(err)
	}
	e := ins[0].Event("acme", now)
	e.Seq = 42
	b, err := trail.MarshalEvent(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// exactValue decodes JSON with numbers as exact rationals, so that two
// texts compare equal only when every value is exactly the same.
func exactValue(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return exactNumbers(v)
}

func exactNumbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		r, ok := new(big.Rat).SetString(string(v))
		if !ok {
			return string(v)
		}
		return r.RatString()
	case map[string]any:
		for k, x := range v {
			v[k] = exactNumbers(x)
		}
	case []any:
		for i, x := range v {
			v[i] = exactNumbers(x)
		}
	}
	return v
}

// TestLeafPinsEveryByte changes every byte of a stored event, one at a
// time, to every other byte value, and checks that each change either
// makes the event invalid (not JSON, or a number Trail refuses and trail
// verify reports as inexact) or changes its leaf, or else leaves the
// event's value exactly as it was (1e21 and 1E21, \u00e9 and \u00E9 are
// one value). So no change of the stored bytes changes what the event
// says without changing its leaf.
func TestLeafPinsEveryByte(t *testing.T) {
	stored := storedEvent(t, `{"amount":2.50,"id":9007199254740992,"big":1234567890123456800,"rate":0.1,`+
		`"exp":1e21,"neg":-12.5e-3,"s":"caf\u00e9 é \/ \"q\" \ufffd","n":null,"ok":true,"list":[1,0,-0]}`)
	want, err := ledger.LeafHashJSON(stored)
	if err != nil {
		t.Fatal(err)
	}
	orig := exactValue(t, stored)
	// Every ASCII byte, and non-ASCII bytes of each UTF-8 role.
	var alphabet []byte
	for c := range 128 {
		alphabet = append(alphabet, byte(c))
	}
	alphabet = append(alphabet, 0x80, 0xa9, 0xbf, 0xc3, 0xe2, 0xf0, 0xff)
	same, invalid, changed := 0, 0, 0
	mutated := make([]byte, len(stored))
	for i := range stored {
		for _, c := range alphabet {
			if c == stored[i] {
				continue
			}
			copy(mutated, stored)
			mutated[i] = c
			if !json.Valid(mutated) {
				invalid++
				continue
			}
			if trail.StoredJSONProblem(mutated) != "" {
				invalid++ // trail verify reports it (KindInexact)
				continue
			}
			got, err := ledger.LeafHashJSON(mutated)
			if err != nil || !bytes.Equal(got, want) {
				changed++
				continue
			}
			if !reflect.DeepEqual(exactValue(t, mutated), orig) {
				t.Fatalf("byte %d changed to %#x: same leaf, other value:\n%s\n%s", i, c, stored, mutated)
			}
			same++
		}
	}
	t.Logf("%d single-byte changes: %d invalid, %d change the leaf, %d keep the leaf and the exact value", invalid+changed+same, invalid, changed, same)
	if changed == 0 {
		t.Fatal("no change changed the leaf")
	}
}

// TestLeafInexactNumbers shows what the ingest rule prevents: numbers that
// differ but round to one double share a leaf.
func TestLeafInexactNumbers(t *testing.T) {
	for _, pair := range [][2]string{
		{`{"a":1234567890123456789}`, `{"a":1234567890123456700}`},
		{`{"a":9007199254740993}`, `{"a":9007199254740992}`},
		{`{"a":0.10000000000000000555}`, `{"a":0.1}`},
	} {
		h1, _ := ledger.LeafHashJSON([]byte(pair[0]))
		h2, _ := ledger.LeafHashJSON([]byte(pair[1]))
		if !bytes.Equal(h1, h2) {
			t.Errorf("%s and %s: leaves differ", pair[0], pair[1])
		}
		if _, lit := trail.InexactNumber([]byte(pair[0])); lit == nil {
			t.Errorf("%s: not refused", pair[0])
		}
	}
}

// TestVerifyInexactNumber edits a stored number to another that rounds to
// the same double: the leaf still matches, and trail verify reports it.
func TestVerifyInexactNumber(t *testing.T) {
	e := newEnv(t, ledger.Config{})
	appendEvents(t, e.db, "acme", 3)
	ev := trail.NewSystemEvent("acme", "payment.sent", trail.Actor{Type: "user", ID: "u1"}, trail.Context{}, base)
	ev.Metadata = json.RawMessage(`{"to_account_id":9007199254740992}`)
	if err := e.db.AppendBatches(ctxT(t), []*trail.Batch{{Events: []*trail.Event{ev}}}); err != nil {
		t.Fatal(err)
	}
	appendEvents(t, e.db, "acme", 2)
	e.sequence(t)
	if r := e.verify(t, "acme"); !r.OK() || r.Checked != 6 {
		t.Fatalf("intact log: %s %v", r.Summary(), r.Problems)
	}
	raw, err := sql.Open("sqlite3", e.db.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	exec(t, raw, `UPDATE events SET data = replace(data, '9007199254740992', '9007199254740993') WHERE tenant = 'acme' AND seq = 3`)
	wantFirst(t, e.verify(t, "acme"), 3, ledger.KindInexact, "9007199254740993", "metadata.to_account_id")

	v := e.led.Verifier()
	v.AcceptInexact = true
	r, err := v.VerifyLog(ctxT(t), "acme")
	if err != nil || !r.OK() || r.Inexact != 1 || r.Checked != 6 {
		t.Fatalf("with AcceptInexact: %+v, %v", r, err)
	}
}
