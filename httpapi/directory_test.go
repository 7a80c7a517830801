package httpapi_test

import (
	"testing"

	"github.com/trailhq/trail"
)

type actorsBody struct {
	Actors []*trail.ActorEntry `json:"actors"`
}

type targetTypesBody struct {
	TargetTypes []string `json:"target_types"`
}

// actorIDs returns tenant/id of each actor GET path answers.
func (e *env) actorIDs(tb testing.TB, secret, path string) []string {
	tb.Helper()
	out := []string{}
	for _, a := range decode[actorsBody](tb, e.do(tb, "GET", path, secret, "").want(tb, 200)).Actors {
		out = append(out, a.Tenant+"/"+a.ID)
	}
	return out
}

func TestActorsAndTargetTypes(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		acme := e.newKey(t, "acme", false, trail.ScopeEventsRead, trail.ScopeEventsWrite)
		globex := e.newKey(t, "globex", false, trail.ScopeEventsRead, trail.ScopeEventsWrite)
		platform := e.newKey(t, "", true, trail.ScopeEventsRead)
		writeOnly := e.newKey(t, "acme", false, trail.ScopeEventsWrite)
		e.ingest(t, acme, `{"events":[`+
			event("doc.read", "actor", `{"type":"user","id":"u_ada","name":"Ada Lovelace"}`, "targets", `[{"type":"document","id":"d1"}]`)+","+
			event("doc.read", "actor", `{"type":"user","id":"u_bob","name":"Bob"}`, "targets", `[{"type":"folder","id":"f1"}]`)+`]}`)
		e.ingest(t, globex, event("doc.read", "actor", `{"type":"user","id":"u_ada2","name":"Ada Other"}`,
			"targets", `[{"type":"invoice","id":"i1"}]`))

		t.Run("OK", func(t *testing.T) {
			got := decode[actorsBody](t, e.do(t, "GET", "/v1/actors?prefix=ADA", acme, "").want(t, 200)).Actors
			if len(got) != 1 || got[0].ID != "u_ada" || got[0].Name != "Ada Lovelace" || got[0].Type != "user" {
				t.Fatalf("actors = %+v, want acme's Ada", got)
			}
			wantStrings(t, "by id", e.actorIDs(t, acme, "/v1/actors?prefix=u_"), "acme/u_ada", "acme/u_bob")
			wantStrings(t, "limit", e.actorIDs(t, acme, "/v1/actors?limit=1"), "acme/u_ada")
			wantStrings(t, "platform", e.actorIDs(t, platform, "/v1/actors?prefix=ada"), "acme/u_ada", "globex/u_ada2")
			wantStrings(t, "platform, one tenant", e.actorIDs(t, platform, "/v1/actors?prefix=ada&tenant=globex"), "globex/u_ada2")
			wantStrings(t, "another tenant's", e.actorIDs(t, acme, "/v1/actors?tenant=globex"))
			types := decode[targetTypesBody](t, e.do(t, "GET", "/v1/target-types", acme, "").want(t, 200)).TargetTypes
			wantStrings(t, "target types", types, "document", "folder")
			types = decode[targetTypesBody](t, e.do(t, "GET", "/v1/target-types", platform, "").want(t, 200)).TargetTypes
			wantStrings(t, "every tenant's target types", types, "document", "folder", "invoice")
		})
		for _, tt := range []struct{ name, path, field string }{
			{"ErrLimitZero", "/v1/actors?limit=0", "limit"},
			{"ErrLimitTooLarge", "/v1/actors?limit=101", "limit"},
			{"ErrLimitNotANumber", "/v1/actors?limit=ten", "limit"},
			{"ErrPrefixTwice", "/v1/actors?prefix=a&prefix=b", "prefix"},
			{"ErrPrefixControl", "/v1/actors?prefix=a%01", "prefix"},
			{"ErrUnknownParameter", "/v1/actors?name=ada", "name"},
			{"ErrTenant", "/v1/actors?tenant=a%20b", "tenant"},
			{"ErrTargetTypesParameter", "/v1/target-types?prefix=a", "prefix"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				e.do(t, "GET", tt.path, acme, "").wantError(t, 400, trail.EINVALID, tt.field)
			})
		}
		t.Run("ErrScope", func(t *testing.T) {
			e.do(t, "GET", "/v1/actors", writeOnly, "").want(t, 403)
			e.do(t, "GET", "/v1/target-types", writeOnly, "").want(t, 403)
		})
	})
}

func wantStrings(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if len(got) != len(want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s = %v, want %v", what, got, want)
		}
	}
}
