package httpapi_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/trailhq/trail"
)

func TestIngest(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		writer := e.newKey(t, "acme", false, trail.ScopeEventsWrite, trail.ScopeEventsRead)

		t.Run("OneEvent", func(t *testing.T) {
			body := event("user.created", "targets", `[{"type":"user","id":"u2","metadata":{"plan": "pro"}}]`,
				"context", `{"ip":"10.0.0.1","user_agent":"curl/8","location":"Berlin"}`,
				"metadata", `{ "reason": "signup" }`, "trace_id", `"tr-1"`)
			got := e.ingest(t, writer, body)
			if len(got) != 1 || !trail.ValidID(got[0]) {
				t.Fatalf("ids = %v, want one id", got)
			}
			ev := decode[trail.Event](t, e.do(t, "GET", "/v1/events/"+got[0], writer, "").want(t, 200))
			if ev.Tenant != "acme" || ev.Action != "user.created" || ev.Actor.ID != "u1" ||
				ev.Context.Location != "Berlin" || ev.TraceID != "tr-1" || string(ev.Metadata) != `{"reason":"signup"}` ||
				len(ev.Targets) != 1 || string(ev.Targets[0].Metadata) != `{"plan":"pro"}` {
				t.Fatalf("stored event = %+v", ev)
			}
		})
		t.Run("Batch", func(t *testing.T) {
			got := e.ingest(t, writer, batch(event("a.one"), event("a.two"), event("a.three")))
			for i, action := range []string{"a.one", "a.two", "a.three"} {
				ev := decode[trail.Event](t, e.do(t, "GET", "/v1/events/"+got[i], writer, "").want(t, 200))
				if ev.Action != action {
					t.Errorf("ids[%d] is %s, want %s", i, ev.Action, action)
				}
			}
		})
	})
}

// TestIngestInvalid sends bad requests: each gets a 4xx that names the
// field, and nothing is stored.
func TestIngestInvalid(t *testing.T) {
	big := `{"events":[` + strings.Repeat(event("a.b")+",", trail.MaxBatchEvents) + event("a.b") + `]}`
	huge := event("a.b", "metadata", `{"x":"`+strings.Repeat("x", trail.MaxBodyBytes)+`"}`)
	tests := []struct {
		name   string
		body   string
		header []string
		status int
		field  string
	}{
		{"MalformedJSON", `{"action": "a.b",`, nil, 400, "body"},
		{"NotAnObject", `[1,2]`, nil, 400, "body"},
		{"Empty", ``, nil, 400, "body"},
		{"ActionWrongType", event("a.b", "action", `5`), nil, 400, "action"},
		{"ActionMissing", `{"occurred_at":"2024-01-01T00:00:00Z","actor":{"type":"user","id":"u"}}`, nil, 400, "action"},
		{"ActionBadShape", event("User Created"), nil, 400, "action"},
		{"OccurredAtBad", event("a.b", "occurred_at", `"yesterday"`), nil, 400, "occurred_at"},
		{"OccurredAtFuture", event("a.b", "occurred_at", `"2999-01-01T00:00:00Z"`), nil, 400, "occurred_at"},
		{"ActorMissingID", event("a.b", "actor", `{"type":"user"}`), nil, 400, "actor.id"},
		{"TargetMissingID", event("a.b", "targets", `[{"type":"doc"}]`), nil, 400, "targets[0].id"},
		{"TargetsWrongType", event("a.b", "targets", `{"type":"doc"}`), nil, 400, "targets"},
		{"MetadataNotObject", event("a.b", "metadata", `[1]`), nil, 400, "metadata"},
		{"BadIP", event("a.b", "context", `{"ip":"300.1.1.1"}`), nil, 400, "context.ip"},
		{"VersionZero", event("a.b", "version", `0`), nil, 400, "version"},
		{"UnknownField", event("a.b", "acton", `"x"`), nil, 400, "acton"},
		{"InvalidUTF8", event("a.b", "trace_id", "\"\xff\xfe\""), nil, 400, "body"},
		{"NULByte", event("a.b", "trace_id", "\"a\x00b\""), nil, 400, "body"},
		{"EscapedNUL", event("a.b", "actor", `{"type":"user","id":"a\u0000b"}`), nil, 400, "event"},
		{"OtherTenant", event("a.b", "tenant", `"globex"`), nil, 400, "tenant"},
		{"BadTenant", event("a.b", "tenant", `"no spaces"`), nil, 400, "tenant"},
		{"EmptyBatch", `{"events":[]}`, nil, 400, "events"},
		{"BatchNotArray", `{"events":{}}`, nil, 400, "events"},
		{"BatchExtraField", `{"events":[` + event("a.b") + `],"x":1}`, nil, 400, "x"},
		{"SecondEventBad", batch(event("a.b"), event("a.b", "actor", `{}`)), nil, 400, "actor.type"},
		{"SecondEventOtherTenant", batch(event("a.b"), event("a.b", "tenant", `"globex"`)), nil, 400, "tenant"},
		{"TooManyEvents", big, nil, 413, ""},
		{"BodyTooLarge", huge, nil, 413, "body"},
		{"IdempotencyKeyTooLong", event("a.b"), []string{"Idempotency-Key", strings.Repeat("k", 256)}, 400, "Idempotency-Key"},
		{"IdempotencyKeyNotPrintable", event("a.b"), []string{"Idempotency-Key", "a b"}, 400, "Idempotency-Key"},
	}
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		writer := e.newKey(t, "acme", false, trail.ScopeEventsWrite)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				code := trail.EINVALID
				if tt.status == 413 {
					code = trail.ETOOLARGE
				}
				e.do(t, "POST", "/v1/events", writer, tt.body, tt.header...).wantError(t, tt.status, code, tt.field)
			})
		}
		if got := e.allEvents(t); len(got) != 0 {
			t.Fatalf("%d events stored after bad requests, want 0", len(got))
		}
	})
}

func TestIngestIdempotency(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		writer := e.newKey(t, "acme", false, trail.ScopeEventsWrite)
		body := batch(event("a.one"), event("a.two"))

		first := e.do(t, "POST", "/v1/events", writer, body, "Idempotency-Key", "k1").want(t, 201)
		if first.header.Get("Idempotent-Replayed") != "" {
			t.Fatal("first request marked as replayed")
		}
		t.Run("Replay", func(t *testing.T) {
			again := e.do(t, "POST", "/v1/events", writer, body, "Idempotency-Key", "k1").want(t, 201)
			if got, want := string(again.body), string(first.body); got != want {
				t.Fatalf("replayed body = %s, want %s", got, want)
			}
			if got := again.header.Get("Idempotent-Replayed"); got != "true" {
				t.Fatalf("Idempotent-Replayed = %q, want true", got)
			}
		})
		t.Run("DifferentBody", func(t *testing.T) {
			resp := e.do(t, "POST", "/v1/events", writer, batch(event("a.three")), "Idempotency-Key", "k1")
			got := resp.wantError(t, http.StatusUnprocessableEntity, trail.ECONFLICT, "")
			if !strings.Contains(got.Error.Message, "Idempotency-Key") {
				t.Fatalf("message = %q", got.Error.Message)
			}
		})
		t.Run("OtherAPIKey", func(t *testing.T) {
			// Keys are per API key: another client's "k1" is a new request.
			other := e.newKey(t, "acme", false, trail.ScopeEventsWrite)
			resp := e.do(t, "POST", "/v1/events", other, body, "Idempotency-Key", "k1").want(t, 201)
			if resp.header.Get("Idempotent-Replayed") != "" || string(resp.body) == string(first.body) {
				t.Fatalf("another API key's request was replayed: %s", resp.body)
			}
		})
		if got, want := len(e.allEvents(t)), 4; got != want {
			t.Fatalf("%d events stored, want %d", got, want)
		}
	})
}

// TestIngestIdempotencyConcurrent sends the same keyed request at once from
// many clients: it is stored once and every client gets the same ids.
func TestIngestIdempotencyConcurrent(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		writer := e.newKey(t, "acme", false, trail.ScopeEventsWrite)
		body := batch(event("a.one"), event("a.two"))
		const n = 8
		bodies := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				resp := e.do(t, "POST", "/v1/events", writer, body, "Idempotency-Key", "same")
				if resp.status != 201 {
					t.Errorf("request %d: status %d: %s", i, resp.status, resp.body)
				}
				bodies[i] = string(resp.body)
			})
		}
		wg.Wait()
		if distinct := slices.Compact(slices.Sorted(slices.Values(bodies))); len(distinct) != 1 {
			t.Fatalf("clients got different answers: %q", bodies)
		}
		if got := len(e.allEvents(t)); got != 2 {
			t.Fatalf("%d events stored, want 2", got)
		}
	})
}

// TestIngestIdempotencyPrune checks that keys are forgotten after
// IdempotencyTTL: the same key then starts a new request.
func TestIngestIdempotencyPrune(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		writer := e.newKey(t, "acme", false, trail.ScopeEventsWrite)
		e.do(t, "POST", "/v1/events", writer, event("a.one"), "Idempotency-Key", "old").want(t, 201)

		if n, err := e.api.PruneIdempotency(t.Context()); err != nil || n != 0 {
			t.Fatalf("prune of a fresh key = %d, %v; want 0, nil", n, err)
		}
		e.offset.Store(int64(49 * 3600e9))
		if n, err := e.api.PruneIdempotency(t.Context()); err != nil || n != 1 {
			t.Fatalf("prune after 49h = %d, %v; want 1, nil", n, err)
		}
		resp := e.do(t, "POST", "/v1/events", writer, event("a.two"), "Idempotency-Key", "old").want(t, 201)
		if resp.header.Get("Idempotent-Replayed") != "" {
			t.Fatal("pruned key was replayed")
		}
	})
}

func TestIngestPlatformKey(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		platform := e.newKey(t, "", true, trail.ScopeEventsWrite, trail.ScopeEventsRead)
		sys := e.ingest(t, platform, event("system.started", "actor", `{"type":"system"}`))[0]
		acme := e.ingest(t, platform, event("user.created", "tenant", `"acme"`))[0]
		for id, want := range map[string]string{sys: "", acme: "acme"} {
			ev := decode[trail.Event](t, e.do(t, "GET", "/v1/events/"+id, platform, "").want(t, 200))
			if ev.Tenant != want {
				t.Errorf("event %s tenant = %q, want %q", ev.Action, ev.Tenant, want)
			}
		}
		var raw map[string]json.RawMessage
		json.Unmarshal(e.do(t, "GET", "/v1/events/"+sys, platform, "").body, &raw)
		if string(raw["tenant"]) != `""` {
			t.Fatalf("system event tenant JSON = %s", raw["tenant"])
		}
	})
}
