package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/httpapi"
	"github.com/trailhq/trail/internal/teststore"
)

// hostileEnv is an API with two tenants' data in every kind of resource,
// and the keys a hostile caller might hold.
type hostileEnv struct {
	*env
	acmeAdmin, acmeReader, acmeWriter, globexAdmin string

	acmeEvent, globexEvent string // event ids
	globexKey              string // key id
	globexHold, globexRule string // hold and alert rule ids
}

func newHostileEnv(t *testing.T, s trail.Store) *hostileEnv {
	t.Helper()
	h := &hostileEnv{env: newLedgerEnv(t, s)}
	h.acmeAdmin = h.newKey(t, "acme", false, trail.ScopeAdmin)
	h.acmeReader = h.newKey(t, "acme", false, trail.ScopeEventsRead)
	h.acmeWriter = h.newKey(t, "acme", false, trail.ScopeEventsWrite)
	h.globexAdmin = h.newKey(t, "globex", false, trail.ScopeAdmin)
	h.acmeEvent = h.ingest(t, h.acmeAdmin, event("user.created", "trace_id", `"tr-1"`))[0]
	h.globexEvent = h.ingest(t, h.globexAdmin, event("user.created", "trace_id", `"tr-1"`))[0]
	h.do(t, "POST", "/v1/logs", h.acmeWriter, `{"trace_id":"tr-1","message":"ok"}`).want(t, 201)

	h.globexKey = decode[createdKey](t, h.do(t, "POST", "/v1/keys", h.globexAdmin,
		`{"name":"g","scopes":["events:read"]}`).want(t, 201)).ID
	hook := `"kind":"webhook","uri":"https://hooks.example.com/x"`
	h.do(t, "POST", "/v1/forwarders", h.platform, `{"name":"siem",`+hook+`}`).want(t, 201)
	h.do(t, "POST", "/v1/forwarders", h.globexAdmin, `{"name":"siem",`+hook+`}`).want(t, 201)
	h.do(t, "POST", "/v1/forwarders", h.acmeAdmin, `{"name":"siem",`+hook+`}`).want(t, 201)
	hold := `{"kind":"time_range","since":"2026-01-01T00:00:00Z","until":"2026-02-01T00:00:00Z"}`
	h.do(t, "POST", "/v1/holds", h.acmeAdmin, hold).want(t, 201)
	h.globexHold = decode[trail.Hold](t, h.do(t, "POST", "/v1/holds", h.globexAdmin, hold).want(t, 201)).ID
	h.do(t, "PUT", "/v1/retention", h.globexAdmin, `{"days":30}`).want(t, 200)
	h.do(t, "POST", "/v1/actions/user.created/schemas", h.globexAdmin, `{"metadata":{"type":"object"}}`).want(t, 201)
	rule := `{"name":"r","filter":{"actions":["login.failure"]},"condition":{"type":"threshold","count":3,"window":"10m"},` +
		`"webhook":{"url":"https://hooks.example.com/a","secret":"0123456789abcdef-secret"}}`
	h.do(t, "POST", "/v1/alerts/rules", h.acmeAdmin, rule).want(t, 201)
	h.globexRule = decode[trail.AlertRule](t, h.do(t, "POST", "/v1/alerts/rules", h.globexAdmin, rule).want(t, 201)).ID
	return h
}

// snapshot is everything a request could change, read by the platform
// key and straight from the store, without the fields that change by
// themselves (a key's last use, a forwarder's progress).
func (h *hostileEnv) snapshot(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, e := range h.allEvents(t) {
		data, _ := json.Marshal(e)
		fmt.Fprintf(&b, "event %s\n", data)
	}
	for _, path := range []string{"/v1/keys", "/v1/forwarders", "/v1/holds", "/v1/alerts/rules",
		"/v1/forwarders/siem", "/v1/forwarders/siem?tenant=globex", "/v1/forwarders/siem?tenant=acme",
		"/v1/retention?tenant=acme", "/v1/retention?tenant=globex", "/v1/validation?tenant=globex",
		"/v1/actions/user.created/schemas?tenant=globex"} {
		var v any
		if err := json.Unmarshal(h.do(t, "GET", path, h.platform, "").want(t, 200).body, &v); err != nil {
			t.Fatal(err)
		}
		dropVolatile(v)
		data, _ := json.Marshal(v)
		fmt.Fprintf(&b, "%s %s\n", path, data)
	}
	return b.String()
}

func dropVolatile(v any) {
	switch v := v.(type) {
	case map[string]any:
		delete(v, "last_used_at")
		delete(v, "status")
		for _, x := range v {
			dropVolatile(x)
		}
	case []any:
		for _, x := range v {
			dropVolatile(x)
		}
	}
}

// hostileCase is one hostile request: it must be refused with status,
// naming field (when set), and change nothing.
type hostileCase struct {
	name, method, path, key, body string
	status                        int
	field                         string
}

// TestHostileInput sends hostile requests to every route and checks that
// each is a 4xx that names what was wrong, and that nothing changed.
func TestHostileInput(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		h := newHostileEnv(t, s)
		cases := append(h.routeCases(t), h.targetedCases()...)
		before := h.snapshot(t)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := h.do(t, tc.method, tc.path, tc.key, tc.body)
				if r.status < 400 || r.status > 499 {
					t.Fatalf("%s %s: status %d, want 4xx; body: %s", tc.method, tc.path, r.status, r.body)
				}
				if tc.status != 0 && r.status != tc.status {
					t.Errorf("%s %s: status %d, want %d; body: %s", tc.method, tc.path, r.status, tc.status, r.body)
				}
				if tc.field != "" {
					e := hostileError(t, r)
					if !namesField(e.Error, tc.field) {
						t.Errorf("%s %s: error does not name %q: %s", tc.method, tc.path, tc.field, r.body)
					}
				}
				if after := h.snapshot(t); after != before {
					t.Fatalf("%s %s changed the store:\nbefore:\n%s\nafter:\n%s", tc.method, tc.path, before, after)
				}
			})
		}
	})
}

// hostileError reads r's error: Trail's JSON error, or on the OTLP route
// the google.rpc.Status that OTLP/HTTP requires, with its BadRequest fields
// as details.
func hostileError(t *testing.T, r *response) apiError {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct == "application/x-protobuf" {
		st := decodeStatus(t, r, ct)
		e := apiError{Error: trail.Error{Code: st.reason, Message: st.msg}}
		for _, f := range st.fields {
			e.Error.Details = append(e.Error.Details, trail.Detail{Field: f})
		}
		return e
	}
	var e apiError
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("error body %q: %v", r.body, err)
	}
	return e
}

func namesField(e trail.Error, field string) bool {
	for _, d := range e.Details {
		if d.Field == field {
			return true
		}
	}
	return strings.HasPrefix(e.Message, field+":")
}

// concrete fills a route pattern's wildcards with ids of acme's data and
// returns its method and path.
func (h *hostileEnv) concrete(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	return method, strings.NewReplacer("{id}", h.acmeEvent, "{type}", "user", "{name}", "siem",
		"{action}", "user.created", "{version}", "1").Replace(path)
}

// routeCases are the cases every route must refuse: unknown parameters,
// raw ';', malformed escapes and names, too many parameters, and each of
// its parameters repeated, overlong or with a ';'.
func (h *hostileEnv) routeCases(t *testing.T) []hostileCase {
	var cases []hostileCase
	routes := h.api.Routes()
	if len(routes) < 40 {
		t.Fatalf("only %d routes", len(routes))
	}
	for _, pattern := range routes {
		method, path := h.concrete(pattern)
		add := func(name, query, field string) {
			cases = append(cases, hostileCase{name: pattern + "/" + name, method: method,
				path: path + "?" + query, key: h.platform, status: 400, field: field})
		}
		add("Unknown", "bogus=1", "bogus")
		add("UnknownSemicolon", "bogus=1;", "bogus")
		add("NoName", "=1", "query")
		add("BadEscapeName", "%zz=1", "query")
		add("ControlName", "a%00b=1", "query")
		add("TooMany", strings.Repeat("a=1&", trail.MaxQueryParams+1), "query")
		cases = append(cases, h.scopeCases(pattern, method, path)...)
		if slices.Contains(jsonBodyRoutes, pattern) {
			for _, b := range []struct{ name, body, field string }{
				{"BodyMalformed", `{"x":`, "body"},
				{"BodyNotObject", `[1]`, "body"},
				{"BodyRepeatedUnknown", `{"zz":1,"zz":2}`, "zz"},
				{"BodyTrailing", `{}{}`, ""},
				{"BodyNUL", "{\"a\x00\":1}", ""},
				{"BodyInvalidUTF8", "{\"\xff\":1}", ""},
			} {
				if pattern == "POST /v1/logs" && b.field == "body" {
					b.field = "log" // a record that cannot be read is named by its index
				}
				cases = append(cases, hostileCase{name: pattern + "/" + b.name, method: method, path: path,
					key: h.platform, body: b.body, status: 400, field: b.field})
			}
		}
		for _, p := range httpapi.RouteParams(pattern) {
			add(p+"Semicolon", p+"=x;", p)
			add(p+"SemicolonPair", p+"=1;bogus=2", p)
			add(p+"BadEscape", p+"=%zz", p)
			add(p+"Long", p+"="+strings.Repeat("a", 1025), p)
			add(p+"Control", p+"=a%0Ab", p)
			add(p+"BadUTF8", p+"=%ff", p)
			if p != "action" && p != "tile" {
				add(p+"Twice", p+"=1&"+p+"=2", p)
			}
		}
	}
	return cases
}

// jsonBodyRoutes are the routes whose body is a JSON object.
var jsonBodyRoutes = []string{"POST /v1/events", "POST /v1/keys", "POST /v1/forwarders",
	"PATCH /v1/forwarders/{name}", "POST /v1/forwarders/{name}/dead-letters/replay",
	"POST /v1/actions/{action}/schemas", "PUT /v1/validation", "PUT /v1/retention", "POST /v1/holds",
	"POST /v1/alerts/rules", "POST /v1/logs"}

// scopeCases call a route without a key, with a wrong key, and with a key
// of another scope: 401, 401 and 403.
func (h *hostileEnv) scopeCases(pattern, method, path string) []hostileCase {
	scope := h.api.RouteScopes()[pattern]
	if scope == "" {
		return nil
	}
	other := h.acmeReader
	if scope == trail.ScopeEventsRead {
		other = h.acmeWriter
	}
	return []hostileCase{
		{name: pattern + "/NoKey", method: method, path: path, status: 401},
		{name: pattern + "/WrongKey", method: method, path: path, key: "trail_k_nope_nope", status: 401},
		{name: pattern + "/OtherScope", method: method, path: path, key: other, status: 403},
	}
}

// targetedCases are hostile requests aimed at one route each: the probes
// of issue 12 and the usual tricks (another tenant's ids, a weaker key,
// bodies that are malformed, oversized, repeat names or hide fields).
func (h *hostileEnv) targetedCases() []hostileCase {
	ev := func(extra ...string) string { return event("user.login", extra...) }
	c := []hostileCase{
		// Issue 12 item 6: a raw ';' must not widen or redirect anything.
		{"ListActionSemicolon", "GET", "/v1/events?action=nomatch.x;", h.acmeReader, "", 400, "action"},
		{"ExportActionSemicolon", "GET", "/v1/events/export?format=csv&action=nomatch.x;", h.acmeReader, "", 400, "action"},
		{"DeleteForwarderSemicolon", "DELETE", "/v1/forwarders/siem?tenant=globex;", h.platform, "", 400, "tenant"},
		{"RetentionRunSemicolon", "POST", "/v1/retention/run?tenant=x;", h.platform, "", 400, "tenant"},
		{"ListSemicolonSeparator", "GET", "/v1/events?limit=1;action=x.y", h.acmeReader, "", 400, "limit"},
		{"ListEncodedSemicolonIsAValue", "GET", "/v1/events?action=x%3B", h.acmeReader, "", 400, "action"},
		// An empty value is not an absent parameter: "tenant=" from a
		// template with an empty variable must not mean "every tenant" or
		// "the operator's own".
		{"DeleteForwarderEmptyTenant", "DELETE", "/v1/forwarders/siem?tenant=", h.platform, "", 400, "tenant"},
		{"DeleteForwarderBareTenant", "DELETE", "/v1/forwarders/siem?tenant", h.platform, "", 400, "tenant"},
		{"RetentionRunEmptyTenant", "POST", "/v1/retention/run?tenant=", h.platform, "", 400, "tenant"},
		{"ListEmptyTenant", "GET", "/v1/events?tenant=", h.platform, "", 400, "tenant"},
		{"ListEmptyActorID", "GET", "/v1/events?actor_id=", h.acmeReader, "", 400, "actor_id"},

		// Other tenants' data is not found; weaker keys are forbidden.
		{"OtherTenantEvent", "GET", "/v1/events/" + h.globexEvent, h.acmeReader, "", 404, ""},
		{"OtherTenantProof", "GET", "/v1/events/" + h.globexEvent + "/proof", h.acmeReader, "", 404, ""},
		{"OtherTenantEventLogs", "GET", "/v1/events/" + h.globexEvent + "/logs", h.acmeReader, "", 404, ""},
		{"OtherTenantKey", "DELETE", "/v1/keys/" + h.globexKey, h.acmeAdmin, "", 404, ""},
		{"OtherTenantHold", "DELETE", "/v1/holds/" + h.globexHold, h.acmeAdmin, "", 404, ""},
		{"OtherTenantRule", "DELETE", "/v1/alerts/rules/" + h.globexRule, h.acmeAdmin, "", 404, ""},
		{"OtherTenantRuleFirings", "GET", "/v1/alerts/rules/" + h.globexRule + "/firings", h.acmeAdmin, "", 404, ""},
		{"OtherTenantRulePatch", "PATCH", "/v1/alerts/rules/" + h.globexRule, h.acmeAdmin, `{"disabled":true}`, 404, ""},
		{"ReaderPatchesRule", "PATCH", "/v1/alerts/rules/" + h.globexRule, h.acmeReader, `{"disabled":true}`, 403, ""},
		{"RulePatchUnknownField", "PATCH", "/v1/alerts/rules/" + h.globexRule, h.globexAdmin, `{"disabled":true,"name":"x"}`, 400, "name"},
		{"OtherTenantMovedLog", "GET", "/v1/ledger/moved?log=globex", h.acmeReader, "", 404, ""},
		{"TenantReadsOperatorMoves", "GET", "/v1/ledger/moved?log=@operator", h.acmeReader, "", 404, ""},
		{"MovedBadLog", "GET", "/v1/ledger/moved?log=a~b", h.acmeReader, "", 400, "log"},
		{"MovedUnknownParam", "GET", "/v1/ledger/moved?from=1", h.acmeReader, "", 400, "from"},
		{"MovedTwice", "GET", "/v1/ledger/moved?log=acme&log=acme", h.acmeReader, "", 400, "log"},
		{"OtherTenantForwarder", "DELETE", "/v1/forwarders/siem?tenant=globex", h.acmeAdmin, "", 0, ""},
		{"OtherTenantLog", "GET", "/v1/ledger/checkpoint?log=globex", h.acmeReader, "", 404, ""},
		{"OtherTenantRetention", "PUT", "/v1/retention", h.acmeAdmin, `{"tenant":"globex","days":1}`, 0, ""},
		{"OtherTenantRun", "POST", "/v1/retention/run?tenant=globex", h.acmeAdmin, "", 0, ""},
		{"OtherTenantIngest", "POST", "/v1/events", h.acmeWriter, ev("tenant", `"globex"`), 0, ""},
		{"ReaderCreatesKey", "POST", "/v1/keys", h.acmeReader, `{"name":"x","scopes":["admin"]}`, 403, ""},
		{"ReaderDeletesForwarder", "DELETE", "/v1/forwarders/siem", h.acmeReader, "", 403, ""},
		{"ReaderRunsRetention", "POST", "/v1/retention/run", h.acmeReader, "", 403, ""},
		{"WriterReads", "GET", "/v1/events", h.acmeWriter, "", 403, ""},
		{"TenantKeyMakesPlatformKey", "POST", "/v1/keys", h.acmeAdmin, `{"platform":true,"scopes":["admin"]}`, 0, ""},

		// Bad cursors and paging.
		{"CursorGarbage", "GET", "/v1/events?cursor=garbage", h.acmeReader, "", 400, "cursor"},
		{"CursorOtherSort", "GET", "/v1/events?sort=action&cursor=" + (&trail.Cursor{Sort: "occurred_at"}).Encode(), h.acmeReader, "", 400, "cursor"},
		{"CursorJSONJunk", "GET", "/v1/events?cursor=eyJ4IjoxfQ", h.acmeReader, "", 400, "cursor"},

		// Full-text searches that cannot be read exactly are refused.
		{"SearchUnclosedQuote", "GET", "/v1/events?q=%22login", h.acmeReader, "", 400, "q"},
		{"SearchUnclosedParen", "GET", "/v1/events?q=(login+OR+x", h.acmeReader, "", 400, "q"},
		{"SearchDanglingOperator", "GET", "/v1/events?q=login+AND", h.acmeReader, "", 400, "q"},
		{"SearchUnknownField", "GET", "/v1/events?q=nosuch:x", h.acmeReader, "", 400, "q"},
		{"SearchBlank", "GET", "/v1/events?q=%20%20", h.acmeReader, "", 400, "q"},
		{"SearchTooLong", "GET", "/v1/events?q=" + strings.Repeat("a", trail.MaxSearchLen+1), h.acmeReader, "", 400, "q"},
		{"SearchTwice", "GET", "/v1/events?q=a&q=b", h.acmeReader, "", 400, "q"},
		{"ExportSearchBad", "GET", "/v1/events/export?format=csv&q=%22x", h.acmeReader, "", 400, "q"},
		{"TargetSearchBad", "GET", "/v1/targets/user/u1/events?q=(x", h.acmeReader, "", 400, "q"},
		{"LimitHuge", "GET", "/v1/events?limit=100000", h.acmeReader, "", 400, "limit"},
		{"LimitNegative", "GET", "/v1/events?limit=-1", h.acmeReader, "", 400, "limit"},
		{"DeadLetterCursor", "GET", "/v1/forwarders/siem/dead-letters?cursor=-5", h.acmeAdmin, "", 400, "cursor"},
		{"LogsCursor", "GET", "/v1/events/" + h.acmeEvent + "/logs?cursor=%7B%7D", h.acmeReader, "", 400, "cursor"},
		{"LedgerRowsFrom", "GET", "/v1/ledger/rows?from=-1", h.acmeReader, "", 400, "from"},
		{"LedgerTileBad", "GET", "/v1/ledger/tiles?tile=x", h.acmeReader, "", 400, "tile"},
		{"ProofTreeSize", "GET", "/v1/events/" + h.acmeEvent + "/proof?tree_size=0", h.acmeReader, "", 400, "tree_size"},
		{"ConsistencyFrom", "GET", "/v1/ledger/consistency?from=x", h.acmeReader, "", 400, "from"},

		// Unicode tricks in parameters.
		{"TenantZeroWidth", "GET", "/v1/events?tenant=acme%E2%80%8B", h.platform, "", 400, "tenant"},
		{"TenantRTLOverride", "GET", "/v1/retention?tenant=%E2%80%AEemca", h.platform, "", 400, "tenant"},
		{"ActionFullwidth", "GET", "/v1/events?action=%EF%BD%95ser.login", h.acmeReader, "", 400, "action"},
		{"IPZone", "GET", "/v1/events?ip=fe80::1%25eth0", h.acmeReader, "", 400, "ip"},
		{"SinceNotTime", "GET", "/v1/events?since=yesterday", h.acmeReader, "", 400, "since"},

		// Event bodies: issue 12 items 7, 8 and 10, and the usual.
		{"RepeatedAction", "POST", "/v1/events", h.acmeWriter, `{"action":"user.login","action":"x.y",` + ev()[1:], 400, "action"},
		{"RepeatedActorID", "POST", "/v1/events", h.acmeWriter, ev("actor", `{"type":"user","id":"u1","id":"u2"}`), 400, "actor.id"},
		{"RepeatedTargetID", "POST", "/v1/events", h.acmeWriter, ev("targets", `[{"type":"a","id":"1"},{"type":"a","id":"1","id":"2"}]`), 400, "targets[1].id"},
		{"RepeatedContextIP", "POST", "/v1/events", h.acmeWriter, ev("context", `{"ip":"1.2.3.4","ip":"5.6.7.8"}`), 400, "context.ip"},
		{"RepeatedEvents", "POST", "/v1/events", h.acmeWriter, batch(ev()) + `x`, 400, "body"},
		{"RepeatedBatch", "POST", "/v1/events", h.acmeWriter, `{"events":[` + ev() + `],"events":[` + ev() + `]}`, 400, "events"},
		{"ActionOtherCase", "POST", "/v1/events", h.acmeWriter, `{"ACTION":"x.y",` + ev()[1:], 400, "ACTION"},
		{"UnknownContextField", "POST", "/v1/events", h.acmeWriter, ev("context", `{"trace_id":"t"}`), 400, "context.trace_id"},
		{"UnknownActorField", "POST", "/v1/events", h.acmeWriter, ev("actor", `{"type":"user","id":"u1","foo":1}`), 400, "actor.foo"},
		{"UnknownTargetField", "POST", "/v1/events", h.acmeWriter, ev("targets", `[{"type":"a","id":"1"},{"type":"a","id":"2","foo":1}]`), 400, "targets[1].foo"},
		{"IPZoneXSS", "POST", "/v1/events", h.acmeWriter, ev("context", `{"ip":"fe80::1%<img src=x onerror=alert(1)>"}`), 400, "context.ip"},
		{"IPText", "POST", "/v1/events", h.acmeWriter, ev("context", `{"ip":"localhost"}`), 400, "context.ip"},
		{"ActionHuge", "POST", "/v1/events", h.acmeWriter, event(strings.Repeat("a", 200)), 400, "action"},
		{"EventHuge", "POST", "/v1/events", h.acmeWriter, ev("metadata", `{"x":"`+strings.Repeat("a", 70000)+`"}`), 400, "event"},
		{"EventMalformed", "POST", "/v1/events", h.acmeWriter, `{"action":`, 400, "body"},
		{"EventNUL", "POST", "/v1/events", h.acmeWriter, ev("trace_id", `"a\u0000b"`), 400, "event"},
		{"MetadataRepeated", "POST", "/v1/events", h.acmeWriter, ev("metadata", `{"a":1,"a":2}`), 400, "metadata"},
		{"ActionBidi", "POST", "/v1/events", h.acmeWriter, event("user.\u202elogin"), 400, "action"},
		{"TenantHomoglyph", "POST", "/v1/events", h.platform, ev("tenant", `"acmе"`), 400, "tenant"},

		// Other bodies: malformed, repeated and unknown members by path.
		{"KeyMalformed", "POST", "/v1/keys", h.acmeAdmin, `{"name":`, 400, "body"},
		{"KeyRepeatedTenant", "POST", "/v1/keys", h.platform, `{"name":"k","scopes":["admin"],"tenant":"acme","tenant":"globex"}`, 400, "tenant"},
		{"KeyScopeOtherCase", "POST", "/v1/keys", h.acmeAdmin, `{"name":"k","Scopes":["admin"]}`, 400, "Scopes"},
		{"ForwarderMalformed", "POST", "/v1/forwarders", h.acmeAdmin, `[`, 400, "body"},
		{"ForwarderRepeatedURI", "POST", "/v1/forwarders", h.acmeAdmin, `{"name":"x","kind":"webhook","uri":"https://a.example.com","uri":"https://b.example.com"}`, 400, "uri"},
		{"ForwarderUnknownNested", "POST", "/v1/forwarders", h.acmeAdmin, `{"name":"x","kind":"webhook","uri":"https://a.example.com","retry":{"tries":1}}`, 400, "retry.tries"},
		{"PatchRepeated", "PATCH", "/v1/forwarders/siem", h.acmeAdmin, `{"uri":"https://a.example.com","uri":"https://b.example.com"}`, 400, "uri"},
		{"PatchUnknownNested", "PATCH", "/v1/forwarders/siem", h.acmeAdmin, `{"filter":{"action":["x"]}}`, 400, "filter.action"},
		{"PatchOtherCase", "PATCH", "/v1/forwarders/siem", h.acmeAdmin, `{"URI":"https://b.example.com"}`, 400, "URI"},
		{"PatchImmutable", "PATCH", "/v1/forwarders/siem", h.acmeAdmin, `{"tenant":"globex"}`, 400, "tenant"},
		{"PatchMalformed", "PATCH", "/v1/forwarders/siem", h.acmeAdmin, `{"uri":`, 400, "body"},
		{"ReplayBadID", "POST", "/v1/forwarders/siem/dead-letters/replay", h.acmeAdmin, `{"event_ids":["x"]}`, 400, "event_ids[0]"},
		{"ReplayRepeated", "POST", "/v1/forwarders/siem/dead-letters/replay", h.acmeAdmin, `{"event_ids":[],"event_ids":[]}`, 400, "event_ids"},
		// An empty list is not "no list": it must not replay every dead letter.
		{"ReplayEmptyList", "POST", "/v1/forwarders/siem/dead-letters/replay", h.acmeAdmin, `{"event_ids":[]}`, 400, "event_ids"},
		{"ReplayNullList", "POST", "/v1/forwarders/siem/dead-letters/replay", h.acmeAdmin, `{"event_ids":null}`, 400, "event_ids"},
		{"SchemaRepeatedInDocument", "POST", "/v1/actions/user.created/schemas", h.acmeAdmin, `{"metadata":{"type":"object","type":"string"}}`, 400, "metadata.type"},
		{"SchemaMalformed", "POST", "/v1/actions/user.created/schemas", h.acmeAdmin, `{`, 400, "body"},
		{"ValidationRepeated", "PUT", "/v1/validation", h.acmeAdmin, `{"mode":"off","mode":"enforce"}`, 400, "mode"},
		{"RetentionRepeated", "PUT", "/v1/retention", h.acmeAdmin, `{"days":30,"days":1}`, 400, "days"},
		{"RetentionMalformed", "PUT", "/v1/retention", h.acmeAdmin, `{"days":`, 400, "body"},
		{"HoldRepeated", "POST", "/v1/holds", h.acmeAdmin, `{"kind":"time_range","kind":"target","since":"2026-01-01T00:00:00Z","until":"2026-02-01T00:00:00Z"}`, 400, "kind"},
		{"RuleRepeatedNested", "POST", "/v1/alerts/rules", h.acmeAdmin, `{"name":"r","condition":{"type":"threshold","type":"x"}}`, 400, "condition.type"},
		{"RuleUnknownNested", "POST", "/v1/alerts/rules", h.acmeAdmin, `{"name":"r","webhook":{"uri":"x"}}`, 400, "webhook.uri"},
		{"LogsMalformed", "POST", "/v1/logs", h.acmeWriter, `{"logs":[`, 400, ""},
		{"OTLPMalformed", "POST", "/v1/otlp/logs", h.acmeWriter, `{"resourceLogs":[`, 0, ""},
	}
	return c
}

// TestRouteParamsMatchOpenAPI checks that the route table and the OpenAPI
// document list the same query parameters for every route.
func TestRouteParamsMatchOpenAPI(t *testing.T) {
	e := newEnv(t, teststore.SQLite(t))
	doc := decode[struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Parameters map[string]openAPIParam `json:"parameters"`
		} `json:"components"`
	}](t, e.do(t, "GET", "/openapi.json", "", "").want(t, 200))
	for _, pattern := range e.api.Routes() {
		method, path, _ := strings.Cut(pattern, " ")
		ops := doc.Paths[path]
		var params []openAPIParam
		for _, key := range []string{"parameters", strings.ToLower(method)} {
			var list []openAPIParam
			raw := ops[key]
			if key != "parameters" {
				var op struct {
					Parameters []openAPIParam `json:"parameters"`
				}
				json.Unmarshal(raw, &op)
				list = op.Parameters
			} else if raw != nil {
				json.Unmarshal(raw, &list)
			}
			params = append(params, list...)
		}
		var got []string
		for _, p := range params {
			if p.Ref != "" {
				p = doc.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
			}
			if p.In == "query" {
				got = append(got, p.Name)
			}
		}
		want := httpapi.RouteParams(pattern)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: OpenAPI query parameters %v, route table %v", pattern, got, want)
		}
	}
}

type openAPIParam struct {
	Ref  string `json:"$ref"`
	Name string `json:"name"`
	In   string `json:"in"`
}

// TestStrictQueryKeepsValidRequests checks that what clients send still
// works: repeated action and tile, '+' as a space, empty pieces.
func TestStrictQueryKeepsValidRequests(t *testing.T) {
	e := newEnv(t, teststore.SQLite(t))
	acme := e.newKey(t, "acme", false, trail.ScopeAdmin)
	e.ingest(t, acme, batch(event("user.created"), event("user.deleted"), event("doc.shared")))
	v := url.Values{"action": {"user.created", "user.deleted"}}
	if got := len(e.list(t, acme, v.Encode()+"&&limit=10&").Events); got != 2 {
		t.Errorf("events = %d, want 2", got)
	}
	e.do(t, "GET", "/v1/events?actor_name=Ada+Lovelace", acme, "").want(t, 200)
}
