package httpapi_test

import (
	"encoding/json"
	"testing"

	"github.com/trailhq/trail"
)

// TestMFASettingsAPI: GET and PUT /v1/settings/mfa show and set whether a
// tenant requires multi-factor sign-in. Only a key acting as an owner (a
// platform key) sets it; each change is recorded as mfa.required_changed
// by the key, about the tenant; bad requests change nothing.
func TestMFASettingsAPI(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		acme := e.newKey(t, "acme", false, trail.ScopeAdmin)
		reader := e.newKey(t, "acme", false, trail.ScopeEventsRead)
		required := func(t *testing.T) bool {
			t.Helper()
			got, err := s.MFARequired(t.Context(), "acme")
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		if got := e.do(t, "GET", "/v1/settings/mfa", acme, "").want(t, 200); string(got.body) != `{"tenant":"acme","required":false}`+"\n" {
			t.Fatalf("GET: %s", got.body)
		}
		t.Run("ErrRefused", func(t *testing.T) {
			for _, tc := range []struct {
				path, secret, body string
				status             int
				code, field        string
			}{
				{"/v1/settings/mfa", acme, `{"required":true}`, 403, trail.EFORBIDDEN, ""},
				{"/v1/settings/mfa", reader, `{"required":true}`, 403, trail.EFORBIDDEN, ""},
				{"/v1/settings/mfa", e.platform, `{"required":true}`, 400, trail.EINVALID, "tenant"},
				{"/v1/settings/mfa?tenant=acme", e.platform, `{}`, 400, trail.EINVALID, "required"},
				{"/v1/settings/mfa?tenant=acme", e.platform, `{"required":null}`, 400, trail.EINVALID, "required"},
				{"/v1/settings/mfa?tenant=acme", e.platform, `{"required":"yes"}`, 400, trail.EINVALID, "required"},
				{"/v1/settings/mfa?tenant=acme", e.platform, `{"required":true,"mfa":true}`, 400, trail.EINVALID, "mfa"},
				{"/v1/settings/mfa?tenant=acme", e.platform, `{"required":true,"tenant":"globex"}`, 400, trail.EINVALID, "tenant"},
				{"/v1/settings/mfa?tenant=globex", acme, `{"required":true}`, 400, trail.EINVALID, "tenant"},
				{"/v1/settings/mfa?tenant=bad/tenant", e.platform, `{"required":true}`, 400, trail.EINVALID, "tenant"},
			} {
				e.do(t, "PUT", tc.path, tc.secret, tc.body).wantError(t, tc.status, tc.code, tc.field)
			}
			if required(t) || len(e.recorded(t, "acme", trail.ActionMFARequiredChanged)) != 0 {
				t.Fatal("a refused request changed or recorded the requirement")
			}
		})
		t.Run("Set", func(t *testing.T) {
			got := e.do(t, "PUT", "/v1/settings/mfa?tenant=acme", e.platform, `{"tenant":"acme","required":true}`).want(t, 200)
			if string(got.body) != `{"tenant":"acme","required":true}`+"\n" || !required(t) {
				t.Fatalf("PUT: %s, stored %v", got.body, required(t))
			}
			e.do(t, "PUT", "/v1/settings/mfa?tenant=acme", e.platform, `{"required":true}`).want(t, 200) // no change
			evs := e.recorded(t, "acme", trail.ActionMFARequiredChanged)
			if len(evs) != 1 || evs[0].Actor.Type != trail.ActorAPIKey || evs[0].Targets[0].Type != "tenant" || evs[0].Targets[0].ID != "acme" {
				t.Fatalf("mfa.required_changed events %+v: want one by the key about acme", evs)
			}
			var meta map[string]bool
			if json.Unmarshal(evs[0].Metadata, &meta) != nil || meta["before"] || !meta["after"] {
				t.Fatalf("metadata %s", evs[0].Metadata)
			}
			e.do(t, "GET", "/v1/settings/mfa", acme, "").want(t, 200)
			if got, _ := s.MFARequired(t.Context(), "globex"); got {
				t.Fatal("globex requires MFA too")
			}
		})
		t.Run("ErrNotRecordedNotChanged", func(t *testing.T) {
			e.writer.Close()
			e.do(t, "PUT", "/v1/settings/mfa?tenant=acme", e.platform, `{"required":false}`).wantError(t, 503, trail.EUNAVAILABLE, "")
			if !required(t) {
				t.Fatal("a change that could not be recorded was kept")
			}
		})
	})
}
