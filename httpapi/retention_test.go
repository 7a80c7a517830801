package httpapi_test

import (
	"strings"
	"testing"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/retention"
)

func TestRetentionSettings(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		acme := e.newKey(t, "acme", false, trail.ScopeAdmin)
		got := decode[trail.RetentionPolicy](t, e.do(t, "GET", "/v1/retention", acme, "").want(t, 200))
		if got.Days != trail.DefaultRetentionDays || got.Tenant != "acme" {
			t.Fatalf("default policy = %+v", got)
		}
		for _, body := range []string{`{"days":0}`, `{"days":-3}`, `{"days":"7"}`, `{"days":7,"tenant":"globex"}`} {
			field := "days"
			if strings.Contains(body, "globex") {
				field = "tenant"
			}
			e.do(t, "PUT", "/v1/retention", acme, body).wantError(t, 400, trail.EINVALID, field)
		}
		e.do(t, "PUT", "/v1/retention", acme, `{"days":30}`).want(t, 200)
		got = decode[trail.RetentionPolicy](t, e.do(t, "GET", "/v1/retention", acme, "").want(t, 200))
		if got.Days != 30 {
			t.Fatalf("days = %d, want 30", got.Days)
		}
		other := decode[trail.RetentionPolicy](t, e.do(t, "GET", "/v1/retention?tenant=globex", e.platform, "").want(t, 200))
		if other.Days != trail.DefaultRetentionDays {
			t.Fatalf("globex days = %d, want the default", other.Days)
		}
		rep := decode[retention.Report](t, e.do(t, "POST", "/v1/retention/run", acme, "").want(t, 200))
		if len(rep.Tenants) != 0 {
			t.Fatalf("run over a log the ledger never sealed reported %+v", rep.Tenants)
		}
		if got := strings.Join(e.auditActions(t, "acme"), " "); got != "retention.changed" {
			t.Fatalf("acme audit events = %q", got)
		}
	})
}

func TestHolds(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		acme := e.newKey(t, "acme", false, trail.ScopeAdmin)
		globex := e.newKey(t, "globex", false, trail.ScopeAdmin)
		for _, tc := range []struct{ body, field string }{
			{`{"kind":"target","target_type":"user"}`, "target_id"},
			{`{"kind":"time_range","since":"2026-01-01T00:00:00Z"}`, "until"},
			{`{"kind":"time_range","since":"2026-02-01T00:00:00Z","until":"2026-01-01T00:00:00Z"}`, "until"},
			{`{"kind":"everything"}`, "kind"},
			{`{"kind":"tenant","target_id":"x"}`, "target_type"},
		} {
			e.do(t, "POST", "/v1/holds", acme, tc.body).wantError(t, 400, trail.EINVALID, tc.field)
		}
		h := decode[trail.Hold](t, e.do(t, "POST", "/v1/holds", acme,
			`{"kind":"target","target_type":"user","target_id":"u9","reason":"case 12"}`).want(t, 201))
		if h.Tenant != "acme" || h.ID == "" || h.CreatedBy == "" {
			t.Fatalf("hold = %+v", h)
		}
		e.do(t, "POST", "/v1/holds", acme, `{"kind":"time_range","since":"2026-01-01T00:00:00Z","until":"2026-02-01T00:00:00Z"}`).want(t, 201)
		type holds struct{ Holds []trail.Hold }
		if got := decode[holds](t, e.do(t, "GET", "/v1/holds", acme, "").want(t, 200)).Holds; len(got) != 2 {
			t.Fatalf("acme holds = %d, want 2", len(got))
		}
		if got := decode[holds](t, e.do(t, "GET", "/v1/holds", globex, "").want(t, 200)).Holds; len(got) != 0 {
			t.Fatalf("globex sees %d holds of acme", len(got))
		}
		e.do(t, "DELETE", "/v1/holds/"+h.ID, globex, "").wantError(t, 404, trail.ENOTFOUND, "")
		e.do(t, "DELETE", "/v1/holds/"+h.ID, acme, "").want(t, 200)
		e.do(t, "DELETE", "/v1/holds/"+h.ID, acme, "").wantError(t, 404, trail.ENOTFOUND, "")
		if got, want := strings.Join(e.auditActions(t, "acme"), " "), "hold.created hold.created hold.released"; got != want {
			t.Fatalf("acme audit events = %q, want %q", got, want)
		}
	})
}
