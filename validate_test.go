package trail_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
)

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

const good = `{"action":"user.created","occurred_at":"2026-11-23T11:59:00Z","actor":{"type":"user","id":"u1","name":"Ada"},
"targets":[{"type":"user","id":"u2","metadata":{"k":1}}],"context":{"ip":"203.0.113.9","user_agent":"curl/8"},
"metadata":{"plan": "pro"},"version":2,"trace_id":"t-1","tenant":"acme"}`

func TestParseEvents(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		ins, err := trail.ParseEvents([]byte(good), now)
		if err != nil {
			t.Fatal(err)
		}
		e := ins[0].Event("acme", now)
		if got, want := e.Action, "user.created"; got != want {
			t.Errorf("action = %q, want %q", got, want)
		}
		if got, want := e.OccurredAt, time.Date(2026, 11, 23, 11, 59, 0, 0, time.UTC); !got.Equal(want) {
			t.Errorf("occurred_at = %v, want %v", got, want)
		}
		if got, want := string(e.Metadata), `{"plan":"pro"}`; got != want {
			t.Errorf("metadata = %s, want %s (compacted)", got, want)
		}
		if e.Version != 2 || e.Tenant != "acme" || !trail.ValidID(e.ID) || !e.ReceivedAt.Equal(now) {
			t.Errorf("event = %+v", e)
		}
	})
	t.Run("Batch", func(t *testing.T) {
		ins, err := trail.ParseEvents([]byte(`{"events":[`+good+`,`+good+`]}`), now)
		if err != nil || len(ins) != 2 {
			t.Fatalf("got %d events, err %v", len(ins), err)
		}
	})
	t.Run("DefaultsVersionAndSystemActor", func(t *testing.T) {
		ins, err := trail.ParseEvents([]byte(`{"action":"update","occurred_at":"2026-11-23T11:00:00+02:00","actor":{"type":"system"}}`), now)
		if err != nil {
			t.Fatal(err)
		}
		e := ins[0].Event("", now)
		if e.Version != 1 || e.Targets == nil || e.OccurredAt.Location() != time.UTC {
			t.Errorf("event = %+v", e)
		}
	})
	t.Run("TraceIDDefaultsToEventID", func(t *testing.T) {
		ins, err := trail.ParseEvents([]byte(`{"events":[{"action":"a.b","occurred_at":"2026-11-23T11:00:00Z","actor":{"type":"system"}},`+good+`]}`), now)
		if err != nil {
			t.Fatal(err)
		}
		if e := ins[0].Event("acme", now); e.TraceID != e.ID {
			t.Errorf("trace_id = %q, want the event's id %q", e.TraceID, e.ID)
		}
		if got, want := ins[1].Event("acme", now).TraceID, "t-1"; got != want {
			t.Errorf("trace_id = %q, want %q as sent", got, want)
		}
	})
}

// TestParseEventsInvalid checks that every bad input names its field.
func TestParseEventsInvalid(t *testing.T) {
	ev := func(mutate func(m map[string]any)) string {
		var m map[string]any
		json.Unmarshal([]byte(good), &m)
		mutate(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	long := strings.Repeat("a", 129)
	for _, tt := range []struct {
		name, body, field, problem string
		code                       string
	}{
		{"ActionRequired", ev(func(m map[string]any) { delete(m, "action") }), "action", "required", ""},
		{"ActionUpper", ev(func(m map[string]any) { m["action"] = "User.Created" }), "action", "lower-case", ""},
		{"ActionTooLong", ev(func(m map[string]any) { m["action"] = long }), "action", "longer", ""},
		{"ActionTrailingDot", ev(func(m map[string]any) { m["action"] = "user." }), "action", "lower-case", ""},
		{"OccurredAtRequired", ev(func(m map[string]any) { delete(m, "occurred_at") }), "occurred_at", "required", ""},
		{"OccurredAtBad", ev(func(m map[string]any) { m["occurred_at"] = "yesterday" }), "occurred_at", "RFC 3339", ""},
		{"OccurredAtFuture", ev(func(m map[string]any) { m["occurred_at"] = "2026-11-23T12:06:00Z" }), "occurred_at", "future", ""},
		{"OccurredAtNumber", ev(func(m map[string]any) { m["occurred_at"] = 5 }), "occurred_at", "must be a string", ""},
		{"ActorRequired", ev(func(m map[string]any) { delete(m, "actor") }), "actor", "required", ""},
		{"ActorTypeRequired", ev(func(m map[string]any) { m["actor"] = map[string]any{"id": "x"} }), "actor.type", "required", ""},
		{"ActorTypeBad", ev(func(m map[string]any) { m["actor"] = map[string]any{"type": "User!", "id": "x"} }), "actor.type", "lower-case", ""},
		{"ActorIDRequired", ev(func(m map[string]any) { m["actor"] = map[string]any{"type": "user"} }), "actor.id", "required", ""},
		{"ActorIDWrongType", ev(func(m map[string]any) { m["actor"] = map[string]any{"type": "user", "id": 7} }), "actor.id", "must be a string", ""},
		{"ActorMetadataNotObject", ev(func(m map[string]any) {
			m["actor"] = map[string]any{"type": "user", "id": "x", "metadata": []int{1}}
		}), "actor.metadata", "JSON object", ""},
		{"TargetTypeRequired", ev(func(m map[string]any) { m["targets"] = []any{map[string]any{"id": "x"}} }), "targets[0].type", "required", ""},
		{"TargetIDRequired", ev(func(m map[string]any) {
			m["targets"] = []any{map[string]any{"type": "t", "id": "1"}, map[string]any{"type": "t"}}
		}), "targets[1].id", "required", ""},
		{"TooManyTargets", ev(func(m map[string]any) {
			ts := make([]any, 51)
			for i := range ts {
				ts[i] = map[string]any{"type": "t", "id": "x"}
			}
			m["targets"] = ts
		}), "targets", "more than 50", ""},
		{"BadIP", ev(func(m map[string]any) { m["context"] = map[string]any{"ip": "999.1.1.1"} }), "context.ip", "IPv4 or IPv6", ""},
		{"MetadataArray", ev(func(m map[string]any) { m["metadata"] = []int{1} }), "metadata", "JSON object", ""},
		{"MetadataString", ev(func(m map[string]any) { m["metadata"] = "x" }), "metadata", "JSON object", ""},
		{"MetadataDuplicateName", strings.Replace(good, `{"plan": "pro"}`, `{"plan": "pro", "a": {"x": 1, "x": 2}}`, 1), "metadata", `name "x" twice`, ""},
		{"MetadataDuplicateTop", strings.Replace(good, `{"plan": "pro"}`, `{"plan": "pro", "plan": "free"}`, 1), "metadata", `name "plan" twice`, ""},
		{"TargetMetadataLoneSurrogate", strings.Replace(good, `{"k":1}`, `{"k":"\ud800x"}`, 1), "targets[0].metadata", "surrogate", ""},
		{"MetadataLoneLowSurrogate", strings.Replace(good, `{"plan": "pro"}`, `{"plan": "\udc00"}`, 1), "metadata", "surrogate", ""},
		{"VersionZero", ev(func(m map[string]any) { m["version"] = 0 }), "version", ">= 1", ""},
		{"VersionFloat", ev(func(m map[string]any) { m["version"] = 1.5 }), "version", "integer", ""},
		{"TraceIDTooLong", ev(func(m map[string]any) { m["trace_id"] = long }), "trace_id", "longer", ""},
		{"BadTenant", ev(func(m map[string]any) { m["tenant"] = "a b" }), "tenant", "letters", ""},
		{"UnknownField", ev(func(m map[string]any) { m["actoor"] = 1 }), "actoor", "unknown field", ""},
		{"UnknownNestedField", ev(func(m map[string]any) { m["context"] = map[string]any{"ipp": "1.2.3.4"} }), "context.ipp", "unknown field", ""},
		{"UnknownContextTraceID", ev(func(m map[string]any) { m["context"] = map[string]any{"trace_id": "t"} }), "context.trace_id", "unknown field", ""},
		{"UnknownActorField", ev(func(m map[string]any) { m["actor"] = map[string]any{"type": "user", "id": "x", "foo": 1} }), "actor.foo", "unknown field", ""},
		{"UnknownTargetField", ev(func(m map[string]any) {
			m["targets"] = []any{map[string]any{"type": "t", "id": "1"}, map[string]any{"type": "t", "id": "2", "foo": 1}}
		}), "targets[1].foo", "unknown field", ""},
		{"FieldOtherCase", ev(func(m map[string]any) { m["ACTION"] = "x.y" }), "ACTION", "unknown field", ""},
		{"RepeatedAction", `{"action":"user.login","action":"x.y",` + good[1:], "action", "repeated member name", ""},
		{"RepeatedActorID", strings.Replace(good, `"id":"u1"`, `"id":"u1","id":"u2"`, 1), "actor.id", "repeated member name", ""},
		{"RepeatedActor", strings.Replace(good, `"actor":`, `"actor":{"type":"user","id":"x"},"actor":`, 1), "actor", "repeated member name", ""},
		{"RepeatedTargetType", strings.Replace(good, `"targets":[{`, `"targets":[{"type":"a",`, 1), "targets[0].type", "repeated member name", ""},
		{"RepeatedContextIP", strings.Replace(good, `"action"`, `"context":{"ip":"1.2.3.4","ip":"5.6.7.8"},"action"`, 1), "context.ip", "repeated member name", ""},
		{"RepeatedBatchEvents", `{"events":[` + good + `],"events":[` + good + `]}`, "events", "repeated member name", trail.EINVALID},
		{"IPv6Zone", ev(func(m map[string]any) { m["context"] = map[string]any{"ip": "fe80::1%<img src=x onerror=alert(1)>"} }), "context.ip", "zone", ""},
		{"IPv6PlainZone", ev(func(m map[string]any) { m["context"] = map[string]any{"ip": "fe80::1%eth0"} }), "context.ip", "zone", ""},
		{"NULEscape", ev(func(m map[string]any) { m["action"] = "a\x00b" }), "event", "NUL", ""},
		{"Malformed", `{"action":`, "body", "malformed JSON", trail.EINVALID},
		{"NotObject", `[1,2]`, "body", "JSON object", trail.EINVALID},
		{"Empty", ``, "body", "malformed", trail.EINVALID},
		{"InvalidUTF8", "{\"action\":\"\xff\"}", "body", "UTF-8", trail.EINVALID},
		{"RawNUL", "{\"action\":\"a\x00\"}", "body", "NUL", trail.EINVALID},
		{"EmptyBatch", `{"events":[]}`, "events", "at least one", trail.EINVALID},
		{"BatchNotArray", `{"events":{}}`, "events", "array", trail.EINVALID},
		{"BatchExtraField", `{"events":[` + good + `],"x":1}`, "x", "unknown field", trail.EINVALID},
		{"BatchTooBig", `{"events":[` + strings.Repeat(good+",", 1000) + good + `]}`, "", "", trail.ETOOLARGE},
		{"EventTooBig", ev(func(m map[string]any) { m["metadata"] = map[string]any{"x": strings.Repeat("a", 70000)} }), "event", "larger than", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := trail.ParseEvents([]byte(tt.body), now)
			var e *trail.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *trail.Error", err)
			}
			if tt.code != "" && e.Code != tt.code {
				t.Errorf("code = %q, want %q", e.Code, tt.code)
			}
			if tt.field == "" {
				return
			}
			for _, d := range e.Details {
				if d.Field == tt.field && strings.Contains(d.Problem, tt.problem) {
					return
				}
			}
			t.Errorf("details = %+v, want field %q with problem containing %q", e.Details, tt.field, tt.problem)
		})
	}
}

func TestParseEventsAcceptsPairedSurrogatesAndRepeatsAcrossObjects(t *testing.T) {
	body := strings.Replace(good, `{"plan": "pro"}`, `{"plan": "\ud83d\ude00 \\ud800", "a": {"plan": 1}, "l": [{"x": 1}, {"x": 2}]}`, 1)
	if _, err := trail.ParseEvents([]byte(body), now); err != nil {
		t.Fatal(err)
	}
}

func TestParseEventsListsEveryProblem(t *testing.T) {
	body := `{"events":[` + good + `,{"action":"X"},` + good + `,{"occurred_at":"no"}]}`
	_, err := trail.ParseEvents([]byte(body), now)
	var e *trail.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v", err)
	}
	indexes := map[int]bool{}
	for _, d := range e.Details {
		indexes[*d.Index] = true
	}
	if !indexes[1] || !indexes[3] || indexes[0] || indexes[2] {
		t.Errorf("problems at indexes %v, want 1 and 3 only: %+v", indexes, e.Details)
	}
	if !strings.HasPrefix(e.Message, "events[1].action") {
		t.Errorf("message = %q, want it to name events[1].action", e.Message)
	}
}

// TestParseEventsFastPathAgrees checks that the strict fast path of
// ParseEvents and the careful path give the same events and the same
// errors, on clean bodies and on ones the fast path hands over.
func TestParseEventsFastPathAgrees(t *testing.T) {
	for name, body := range map[string]string{
		"Single":             good,
		"Batch":              `{"events":[` + good + `,` + good + `]}`,
		"Whitespace":         " \n{ \"events\" : [ " + good + " ] }\n",
		"UpperCaseName":      strings.Replace(good, `"action"`, `"Action"`, 1),
		"RepeatedMember":     strings.Replace(good, `"trace_id":"t-1"`, `"trace_id":"t-1","trace_id":"t-2"`, 1),
		"RepeatedMetadata":   strings.Replace(good, `{"plan": "pro"}`, `{"plan": "pro", "plan": "x"}`, 1),
		"UnknownMember":      strings.Replace(good, `"version":2`, `"verison":2`, 1),
		"EventsAndMore":      `{"events":[` + good + `],"extra":1}`,
		"EmptyBatch":         `{"events":[]}`,
		"NullEvents":         `{"events":null}`,
		"NotAnObject":        `{"events":[1]}`,
		"Trailing":           good + `{}`,
		"VersionFloat":       strings.Replace(good, `"version":2`, `"version":2.0`, 1),
		"VersionExponent":    strings.Replace(good, `"version":2`, `"version":2e0`, 1),
		"NullMetadata":       strings.Replace(good, `{"plan": "pro"}`, `null`, 1),
		"ArrayMetadata":      strings.Replace(good, `{"plan": "pro"}`, `[1]`, 1),
		"LoneSurrogateName":  strings.Replace(good, `"name":"Ada"`, `"name":"A\ud800"`, 1),
		"LoneSurrogateMeta":  strings.Replace(good, `{"plan": "pro"}`, `{"p": "\udc00"}`, 1),
		"EscapedNUL":         strings.Replace(good, `"name":"Ada"`, `"name":"A\u0000"`, 1),
		"EscapedBackslash":   strings.Replace(good, `"name":"Ada"`, `"name":"A\\u0000 \\\u0000"`, 1),
		"EscapedBackslashOK": strings.Replace(good, `"name":"Ada"`, `"name":"A\\u0000 \\\\u0000"`, 1),
		"NULInBatch":         `{"events":[` + good + `,` + strings.Replace(good, `"t-1"`, `"\u0000"`, 1) + `]}`,
		"SpacedMetadata":     strings.Replace(good, `{"plan": "pro"}`, "{ \"plan\" : \"a b\",\n\t\"n\": [1, 2] }", 1),
		"NullActor":          strings.Replace(good, `{"type":"user","id":"u1","name":"Ada"}`, `null`, 1),
		"Empty":              `{}`,
		"Invalid":            `{"events":[` + good + `,{"action":"X"}]}`,
	} {
		t.Run(name, func(t *testing.T) { agree(t, []byte(body)) })
	}
}

// TestParseEventsTakesFastPath checks which bodies the fast path decodes,
// so that TestParseEventsFastPathAgrees compares both paths for real.
func TestParseEventsTakesFastPath(t *testing.T) {
	for _, tt := range []struct {
		name string
		body string
		fast bool
	}{
		{"Single", good, true},
		{"Batch", `{"events":[` + good + `,` + good + `]}`, true},
		{"SpacedMetadata", strings.Replace(good, `{"plan": "pro"}`, "{ \"plan\" : 1 }", 1), true},
		{"InvalidButWellFormed", `{"events":[{"action":"X"}]}`, true},
		{"UpperCaseName", strings.Replace(good, `"action"`, `"Action"`, 1), false},
		{"RepeatedMetadataName", strings.Replace(good, `{"plan": "pro"}`, `{"a":1,"a":2}`, 1), false},
		{"EscapedNUL", strings.Replace(good, `"t-1"`, `"\u0000"`, 1), false},
		{"TooManyEvents", `{"events":[` + strings.Repeat(`{},`, trail.MaxBatchEvents) + `{}]}`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := trail.DecodesFast([]byte(tt.body)); got != tt.fast {
				t.Errorf("fast path = %v, want %v", got, tt.fast)
			}
		})
	}
}

// agree fails t unless both parse paths give the same result for body.
func agree(t *testing.T, body []byte) {
	t.Helper()
	fast, ferr := trail.ParseEvents(body, now)
	careful, cerr := trail.ParseEventsCareful(body, now)
	if fmt.Sprint(ferr) != fmt.Sprint(cerr) {
		t.Fatalf("errors differ:\nfast:    %v\ncareful: %v", ferr, cerr)
	}
	if got, want := len(fast), len(careful); got != want {
		t.Fatalf("fast path gave %d events, careful path %d", got, want)
	}
	for i := range fast {
		f, c := fast[i].Event("t", now), careful[i].Event("t", now)
		f.ID, c.ID = "", ""
		got, _ := json.Marshal(f)
		want, _ := json.Marshal(c)
		if string(got) != string(want) {
			t.Errorf("event %d differs:\nfast:    %s\ncareful: %s", i, got, want)
		}
	}
}

func FuzzParseEvents(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte(`{"events":[` + good + `]}`))
	f.Add([]byte(`{"action":"a","actor":{"type":"user","id":"\\u0000"}}`))
	f.Add([]byte(`{"action":"user.login","action":"x.y",` + good[1:]))
	f.Add([]byte(`{"ACTION":"x.y",` + good[1:]))
	f.Add([]byte(strings.Replace(good, `"id":"u1"`, `"id":"u1","id":"u2"`, 1)))
	f.Add([]byte(strings.Replace(good, `"203.0.113.9"`, `"fe80::1%eth0"`, 1)))
	f.Add([]byte(`{"events":[` + good + `],"events":[` + good + `]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		agree(t, body)
		ins, err := trail.ParseEvents(body, now)
		if err != nil {
			if code := trail.ErrorCode(err); code != trail.EINVALID && code != trail.ETOOLARGE {
				t.Fatalf("code %q for client input: %v", code, err)
			}
			return
		}
		for _, in := range ins {
			e := in.Event("t", now)
			want, err := json.Marshal(e)
			if err != nil {
				t.Fatalf("accepted event does not marshal: %v", err)
			}
			if got, _ := trail.MarshalEvent(e); string(got) != string(want) {
				t.Fatalf("MarshalEvent:\n%s\nencoding/json:\n%s", got, want)
			}
		}
	})
}
