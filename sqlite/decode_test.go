package sqlite_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/sqlite"
)

// FuzzDecodeEvent checks that the store's decoder reads any event's stored
// JSON exactly as encoding/json does.
func FuzzDecodeEvent(f *testing.F) {
	for _, s := range []string{"", "plain", `quote " and \ backslash`, "<html> & \u2028\u2029", "é 日本 🎉", "\x7f\x01\t\n"} {
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
		want.Pos = 42
		got, err := sqlite.DecodeEvent(42, data)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, &want) {
			t.Fatalf("decoded\n%+v\nwant\n%+v", got, want)
		}
	})
}
