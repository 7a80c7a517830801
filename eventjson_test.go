package trail_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/trailhq/trail"
)

// TestMarshalEventMatchesEncodingJSON checks that MarshalEvent writes what
// encoding/json writes, on events with HTML characters, line separators,
// empty and nil parts, and times with and without fractions.
func TestMarshalEventMatchesEncodingJSON(t *testing.T) {
	at := time.Date(2026, 11, 23, 12, 0, 0, 123456000, time.UTC)
	full := &trail.Event{ID: trail.NewID(at), Tenant: "acme", Seq: 7, Pos: 9, Action: "user.updated",
		OccurredAt: at, ReceivedAt: at.Add(time.Second).Truncate(time.Second),
		Actor:    trail.Actor{Type: "user", ID: "u<1>", Name: "Ada & \u2028 Bob", Metadata: json.RawMessage(`{"a": [1, 2]}`)},
		Targets:  []trail.Target{{Type: "doc", ID: "d1", Metadata: json.RawMessage(`{}`)}, {Type: "user", ID: "é"}},
		Context:  trail.Context{IP: "::1", UserAgent: "curl/8 \"x\"", Location: "Zürich"},
		Metadata: json.RawMessage(`{"html":"<b>","n":1e3}`), Version: 2, TraceID: "t-1"}
	for name, e := range map[string]*trail.Event{
		"Full":     full,
		"Empty":    {},
		"System":   trail.NewSystemEvent("", "key.created", trail.Actor{Type: "system"}, trail.Context{}, at),
		"NilParts": {ID: "x", Action: "a", Targets: nil, Metadata: nil, Actor: trail.Actor{Metadata: json.RawMessage(`null`)}},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := trail.MarshalEvent(e)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := json.Marshal(e)
			if string(got) != string(want) {
				t.Errorf("MarshalEvent:\n%s\nencoding/json:\n%s", got, want)
			}
		})
	}
}

// TestBatchEventJSON checks that the encoding a batch carries, with the
// Seq the store assigns spliced in, is MarshalEvent of the stored event,
// for tenants and ids that hold quotes and the very text of the Seq field,
// and for Seqs of every width.
func TestBatchEventJSON(t *testing.T) {
	at := time.Date(2026, 11, 23, 12, 0, 0, 123456789, time.FixedZone("CET", 3600))
	tricky := `,"seq":0,"x"`
	var events []*trail.Event
	for _, tenant := range []string{"", "acme", tricky, `"`} {
		events = append(events, &trail.Event{ID: trail.NewID(at) + tricky, Tenant: tenant, Action: "user.updated",
			OccurredAt: at, ReceivedAt: at.Add(time.Nanosecond),
			Actor:    trail.Actor{Type: "user", ID: tricky, Metadata: json.RawMessage(`{"seq":0}`)},
			Metadata: json.RawMessage(`{"seq":0,"a":",\"seq\":0,"}`), Version: 1})
	}
	b := &trail.Batch{Events: events}
	if err := b.Encode(); err != nil {
		t.Fatal(err)
	}
	for i, e := range events {
		if !e.OccurredAt.Equal(at.Truncate(time.Microsecond)) || e.OccurredAt.Location() != time.UTC {
			t.Errorf("event %d: occurred_at %v, want %v in UTC", i, e.OccurredAt, at.Truncate(time.Microsecond))
		}
		for _, seq := range []int64{0, 1, 9, 10, 12345, 1<<63 - 1} {
			e.Seq = seq
			got, err := b.EventJSON(i)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := json.Marshal(e)
			if string(got) != string(want) {
				t.Errorf("event %d, seq %d:\n got %s\nwant %s", i, seq, got, want)
			}
		}
	}
	// Encoded filled by hand, without Encode's notes of where Seq goes:
	// EventJSON finds the place itself.
	byHand := &trail.Batch{Events: events, Encoded: b.Encoded}
	for i, e := range events {
		e.Seq = 31337
		got, err := byHand.EventJSON(i)
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := json.Marshal(e); string(got) != string(want) {
			t.Errorf("hand-filled Encoded, event %d:\n got %s\nwant %s", i, got, want)
		}
	}
	// A batch that was not encoded encodes each event afresh.
	plain := &trail.Batch{Events: events[:1]}
	events[0].Seq = 42
	got, _ := plain.EventJSON(0)
	want, _ := json.Marshal(events[0])
	if string(got) != string(want) {
		t.Errorf("unencoded batch:\n got %s\nwant %s", got, want)
	}
}

// FuzzDecodeEvent checks that the codec reads any event's stored JSON
// exactly as encoding/json does, keeps the bytes as Raw, and serves them
// as encoding/json would encode the event (StoredJSON).
func FuzzDecodeEvent(f *testing.F) {
	for _, s := range []string{"", "plain", `quote " and \ backslash`, "<html> & \u2028\u2029", "é 日本 🎉", "\x7f\x01\t\n", "bad \xff utf-8"} {
		f.Add(s, s, int64(1_700_000_000_123_456))
	}
	f.Fuzz(func(t *testing.T, text, name string, micros int64) {
		at := time.UnixMicro(micros % 253_402_300_799_000_000).UTC() // before year 10000
		meta, _ := json.Marshal(map[string]any{"s": text, "n": 1.5, "list": []any{text, nil, true}})
		e := &trail.Event{
			ID: trail.NewID(at), Tenant: "acme", Seq: 7, Action: "user.updated", OccurredAt: at, ReceivedAt: at,
			Actor:    trail.Actor{Type: "user", ID: text, Name: name, Metadata: meta},
			Targets:  []trail.Target{{Type: "doc", ID: name, Name: text, Metadata: meta}},
			Context:  trail.Context{IP: "::1", UserAgent: text, Location: name},
			Metadata: meta, Version: 2, TraceID: name,
		}
		data, err := json.Marshal(e)
		if err != nil {
			t.Skip("not encodable")
		}
		var want trail.Event
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatal(err)
		}
		got, err := trail.DecodeEvent(data)
		if err != nil {
			t.Fatal(err)
		}
		if string(got.Raw) != string(data) {
			t.Fatalf("Raw = %s, want the stored bytes %s", got.Raw, data)
		}
		got.Raw = nil
		if !reflect.DeepEqual(got, &want) {
			t.Fatalf("decoded\n%+v\nwant\n%+v", got, want)
		}
		got.Raw = data
		served, err := trail.StoredJSON(got)
		if err != nil {
			t.Fatal(err)
		}
		if again, _ := json.Marshal(&want); string(served) != string(again) {
			t.Fatalf("StoredJSON:\n%s\nencoding/json:\n%s", served, again)
		}
	})
}
