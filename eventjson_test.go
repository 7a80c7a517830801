package trail_test

import (
	"encoding/json"
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
