package console_test

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/schema"
)

// TestSchemasPage lists actions with their schema versions, shows each
// version's JSON Schema and sets the validation mode, recorded as the API
// records it; a bad mode is a 400 that names it and changes nothing.
func TestSchemasPage(t *testing.T) {
	e := newEnv(t)
	e.seed(t, 10)
	for _, sch := range []*trail.ActionSchema{
		{Tenant: "acme", Action: "document.shared", Metadata: json.RawMessage(`{"type":"object","required":["permission"]}`)},
		{Tenant: "acme", Action: "document.shared", Metadata: json.RawMessage(`{"type":"object","required":["permission","audience"]}`)},
		{Tenant: "globex", Action: "secret.globex_only", Metadata: json.RawMessage(`{"type":"object","title":"globex only"}`)},
	} {
		sch.CreatedAt = time.Now()
		if err := schema.Register(t.Context(), e.db, sch); err != nil {
			t.Fatal(err)
		}
	}
	c := e.signedIn(t, e.admin)
	_, page := e.get(t, c, "/settings/schemas")
	token := csrf(t, page)
	t.Run("List", func(t *testing.T) {
		if !strings.Contains(page, `href="/settings/schemas/document.shared"`) || !strings.Contains(page, "1, 2") ||
			!strings.Contains(page, "billing.plan_changed") {
			t.Fatalf("the page does not list document.shared with versions 1, 2 and the seen actions:\n%s", page)
		}
		if strings.Contains(page, "globex") {
			t.Fatal("acme's page names a globex action")
		}
	})
	t.Run("View", func(t *testing.T) {
		status, body := e.get(t, c, "/settings/schemas/document.shared")
		if status != http.StatusOK || !strings.Contains(body, "Version 2") || !strings.Contains(body, html.EscapeString(`"audience"`)) {
			t.Fatalf("status %d, want 200 with version 2's schema:\n%s", status, body)
		}
		for _, path := range []string{"/settings/schemas/secret.globex_only", "/settings/schemas/nope.none"} {
			if status, _ := e.get(t, c, path); status != http.StatusNotFound {
				t.Fatalf("GET %s: status %d, want 404", path, status)
			}
		}
		if status, body := e.get(t, c, "/settings/schemas/Bad%00Action"); status != http.StatusBadRequest || !strings.Contains(body, "action: must be") {
			t.Fatalf("a bad action: status %d, want 400 naming action", status)
		}
	})
	t.Run("SetMode", func(t *testing.T) {
		resp, _ := e.post(t, c, "/settings/schemas/validation", url.Values{"csrf": {token}, "mode": {"enforce"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("status %d, want 303", resp.StatusCode)
		}
		if mode, _ := e.db.ValidationMode(t.Context(), "acme"); mode != trail.ValidationEnforce {
			t.Fatalf("mode %q, want enforce", mode)
		}
		rec := e.recorded(t, "acme", "schema.validation_changed")
		if len(rec) != 1 || rec[0].Actor.ID != e.admin.ID || !strings.Contains(string(rec[0].Metadata), `"mode":"enforce"`) {
			t.Fatalf("schema.validation_changed events %+v", rec)
		}
	})
	t.Run("ErrMode", func(t *testing.T) {
		for _, tt := range []struct {
			form url.Values
			want string
		}{
			{url.Values{"mode": {"on"}}, "mode: must be off, enforce, strict"},
			{url.Values{}, "mode: must be off, enforce, strict"},
			{url.Values{"mode": {"enforce", "off"}}, "mode"},
		} {
			form := tt.form
			before := e.consoleSnapshot(t)
			form.Set("csrf", token)
			resp, body := e.post(t, c, "/settings/schemas/validation", form)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, tt.want) {
				t.Fatalf("form %v: status %d, want 400 naming mode", form, resp.StatusCode)
			}
			if mode, _ := e.db.ValidationMode(t.Context(), "acme"); mode != trail.ValidationEnforce || e.consoleSnapshot(t) != before {
				t.Fatalf("form %v changed something", form)
			}
		}
	})
	t.Run("ErrMember", func(t *testing.T) {
		m := e.signedIn(t, e.member)
		for _, path := range []string{"/settings/schemas", "/settings/schemas/document.shared", "/settings/retention"} {
			if status, _ := e.get(t, m, path); status != http.StatusForbidden {
				t.Fatalf("a member GET %s: status %d, want 403", path, status)
			}
		}
		_, account := e.get(t, m, "/account")
		resp, _ := e.post(t, m, "/settings/schemas/validation", url.Values{"csrf": {csrf(t, account)}, "mode": {"off"}})
		if mode, _ := e.db.ValidationMode(t.Context(), "acme"); resp.StatusCode != http.StatusForbidden || mode != trail.ValidationEnforce {
			t.Fatalf("a member's POST: status %d, mode %s", resp.StatusCode, mode)
		}
	})
}
