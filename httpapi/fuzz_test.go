package httpapi_test

import (
	"encoding/json"
	"testing"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/teststore"
)

// FuzzIngest posts arbitrary bodies to POST /v1/events: the answer is never
// a 5xx, a rejected body stores nothing, and an accepted one stores exactly
// the events whose ids it returns.
func FuzzIngest(f *testing.F) {
	for _, seed := range []string{
		event("user.created"),
		batch(event("a.b"), event("c.d", "tenant", `"acme"`)),
		event("a.b", "targets", `[{"type":"doc","id":"d1","metadata":{"k":[1,2,{"x":null}]}}]`),
		event("a.b", "context", `{"ip":"::ffff:10.0.0.1","user_agent":"\u00e9"}`),
		event("a.b", "actor", `{"type":"user","id":"a\u0000"}`),
		`{"events":[{}]}`, `{"events":null}`, `[]`, `null`, `"x"`, `{"action":1e400}`,
		"{\"action\":\"a.b\xff\"}", `{"occurred_at":"2024-02-30T00:00:00Z"}`,
		event("a.b", "occurred_at", `"0001-01-01T00:00:00Z"`), event("a.b", "version", `9999999999999999999`),
		event("a.b", "tenant", `"globex"`),
	} {
		f.Add(seed)
	}
	// SQLite only: a fuzz worker runs this setup once and then thousands of
	// inputs, which a throwaway PostgreSQL would slow to a crawl.
	db := teststore.SQLite(f)
	e := newEnv(f, db)
	writer := e.newKey(f, "acme", false, trail.ScopeEventsWrite)
	var last int64 = -1
	f.Fuzz(func(t *testing.T, body string) {
		resp := e.do(t, "POST", "/v1/events", writer, body)
		if resp.status >= 500 {
			t.Fatalf("status %d for body %q: %s", resp.status, body, resp.body)
		}
		stored, err := db.StreamEvents(t.Context(), last, trail.MaxBatchEvents+1)
		if err != nil {
			t.Fatal(err)
		}
		if len(stored) > 0 {
			last = stored[len(stored)-1].Pos
		}
		var got struct{ IDs []string }
		switch {
		case resp.status != 201 && len(stored) > 0:
			t.Fatalf("status %d, yet %d events stored", resp.status, len(stored))
		case resp.status != 201:
		case json.Unmarshal(resp.body, &got) != nil || len(got.IDs) != len(stored):
			t.Fatalf("answer %s for %d stored events", resp.body, len(stored))
		}
	})
}
