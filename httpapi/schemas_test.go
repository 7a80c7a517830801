package httpapi_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/trailhq/trail"
)

const planSchemaV1 = `{"metadata": {"type": "object", "required": ["plan"],
	"properties": {"plan": {"enum": ["free", "pro"]}, "seats": {"type": "integer", "minimum": 1}}},
	"targets": {"team": {"type": "object", "required": ["region"]}}}`

const planSchemaV2 = `{"metadata": {"type": "object", "required": ["plan", "seats"]}}`

// auditActions returns the actions of the stored events of tenant that
// Trail recorded about itself.
func (e *env) auditActions(tb testing.TB, tenant string) []string {
	tb.Helper()
	var out []string
	for _, ev := range e.allEvents(tb) {
		if ev.Tenant == tenant && ev.Actor.Type == trail.ActorAPIKey {
			out = append(out, ev.Action)
		}
	}
	return out
}

func TestSchemaValidation(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		acme := e.newKey(t, "acme", false, trail.ScopeAdmin)
		for i, body := range []string{planSchemaV1, planSchemaV2} {
			got := decode[trail.ActionSchema](t, e.do(t, "POST", "/v1/actions/user.created/schemas", e.platform, body).want(t, 201))
			if got.Version != i+1 || got.Tenant != "" {
				t.Fatalf("registered (tenant %q, version %d), want platform version %d", got.Tenant, got.Version, i+1)
			}
		}
		bad := event("user.created", "metadata", `{"plan":"gold"}`)
		e.ingest(t, acme, bad) // validation is off by default
		e.do(t, "PUT", "/v1/validation", acme, `{"mode":"enforce"}`).want(t, 200)
		cases := []struct{ name, body, field string }{
			{"EnumMismatch", bad, "metadata.plan"},
			{"MissingMetadata", event("user.created"), "metadata.plan"},
			{"TargetMetadata", event("user.created", "metadata", `{"plan":"pro"}`,
				"targets", `[{"type":"team","id":"t1","metadata":{}}]`), "targets[0].metadata.region"},
			{"Version2", event("user.created", "metadata", `{"plan":"pro"}`, "version", "2"), "metadata.seats"},
			{"UnknownVersion", event("user.created", "metadata", `{"plan":"pro"}`, "version", "3"), "version"},
			{"WholeBatch", batch(event("user.created", "metadata", `{"plan":"pro"}`), bad), "metadata.plan"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := len(e.allEvents(t))
				e.do(t, "POST", "/v1/events", acme, tc.body).wantError(t, 400, trail.EINVALID, tc.field)
				if after := len(e.allEvents(t)); after != before {
					t.Fatalf("a rejected request stored %d events", after-before)
				}
			})
		}
		e.ingest(t, acme, event("user.created", "metadata", `{"plan":"pro","seats":3}`,
			"targets", `[{"type":"team","id":"t1","metadata":{"region":"eu"}}]`))
		e.ingest(t, acme, event("team.renamed")) // no schema: fine unless strict
		e.do(t, "PUT", "/v1/validation", acme, `{"mode":"strict"}`).want(t, 200)
		e.do(t, "POST", "/v1/events", acme, event("team.renamed")).wantError(t, 400, trail.EINVALID, "action")
		globex := e.newKey(t, "globex", false, trail.ScopeEventsWrite)
		e.ingest(t, globex, bad) // another tenant's validation is off
		if got, want := strings.Join(e.auditActions(t, "acme"), " "), "schema.validation_changed schema.validation_changed"; got != want {
			t.Fatalf("acme audit events = %q, want %q", got, want)
		}
	})
}

func TestSchemaRegistrationErrors(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		for _, tc := range []struct{ name, path, body, field string }{
			{"NotASchema", "/v1/actions/a.b/schemas", `{"metadata":{"type":"nope"}}`, "metadata"},
			{"RemoteRef", "/v1/actions/a.b/schemas", `{"metadata":{"$ref":"https://example.com/s.json"}}`, "metadata"},
			{"TargetSchema", "/v1/actions/a.b/schemas", `{"targets":{"team":{"minimum":"x"}}}`, "targets.team"},
			{"Empty", "/v1/actions/a.b/schemas", `{}`, "metadata"},
			{"UnknownField", "/v1/actions/a.b/schemas", `{"metdata":{}}`, "metdata"},
			{"BadAction", "/v1/actions/A%20B/schemas", `{"metadata":{}}`, "action"},
			{"BadMode", "/v1/validation", `{"mode":"on"}`, "mode"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				method := "POST"
				if strings.HasSuffix(tc.path, "validation") {
					method = "PUT"
				}
				e.do(t, method, tc.path, e.platform, tc.body).wantError(t, 400, trail.EINVALID, tc.field)
			})
		}
		reader := e.newKey(t, "acme", false, trail.ScopeEventsRead)
		e.do(t, "POST", "/v1/actions/a.b/schemas", reader, `{"metadata":{}}`).wantError(t, 403, trail.EFORBIDDEN, "")
		if n := len(e.allEvents(t)); n != 0 {
			t.Fatalf("failed registrations stored %d events", n)
		}
	})
}

func TestActionsList(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		acme := e.newKey(t, "acme", false, trail.ScopeAdmin)
		e.do(t, "POST", "/v1/actions/user.created/schemas", e.platform, planSchemaV1).want(t, 201)
		e.do(t, "POST", "/v1/actions/user.created/schemas", e.platform, planSchemaV2).want(t, 201)
		e.do(t, "POST", "/v1/actions/team.deleted/schemas", acme, `{"metadata":{"type":"object"}}`).want(t, 201)
		e.ingest(t, acme, event("user.created", "metadata", `{"plan":"pro"}`))
		e.ingest(t, acme, event("user.login"))
		type actions struct{ Actions []trail.ActionInfo }
		got := decode[actions](t, e.do(t, "GET", "/v1/actions", acme, "").want(t, 200)).Actions
		var lines []string
		for _, a := range got {
			lines = append(lines, strings.Join([]string{a.Action, boolWord(a.Seen), "[" + a.SchemaTenant + "]", ints(a.Versions)}, " "))
		}
		want := []string{"schema.registered seen [] -", "team.deleted unseen [acme] 1", "user.created seen [] 1,2", "user.login seen [] -"}
		if strings.Join(lines, "\n") != strings.Join(want, "\n") {
			t.Fatalf("actions:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
		}
		v1 := decode[trail.ActionSchema](t, e.do(t, "GET", "/v1/actions/user.created/schemas/1", acme, "").want(t, 200))
		if v1.Version != 1 || !strings.Contains(string(v1.Metadata), "free") {
			t.Fatalf("version 1 = %+v", v1)
		}
		e.do(t, "GET", "/v1/actions/user.created/schemas/9", acme, "").wantError(t, 404, trail.ENOTFOUND, "")
	})
}

func boolWord(b bool) string {
	if b {
		return "seen"
	}
	return "unseen"
}

func ints(vs []int) string {
	if len(vs) == 0 {
		return "-"
	}
	var parts []string
	for _, v := range vs {
		parts = append(parts, strconv.Itoa(v))
	}
	return strings.Join(parts, ",")
}
