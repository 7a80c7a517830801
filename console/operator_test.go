package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
)

// TestOperatorConsole: a platform user signs in with organization
// @operator, reads the operator log and system events (no tenant's), opens
// a tenant's log read-only, and each such page is recorded in that
// tenant's log as tenant.viewed_by_operator.
func TestOperatorConsole(t *testing.T) { forEachStore(t, testOperatorConsole) }

func testOperatorConsole(t *testing.T, newEnv envMaker) {
	e := newEnv(t)
	seeded := e.seed(t, 20)
	op := e.newUser(t, trail.OperatorTenant, "ops@trail.example", trail.RoleOwner)
	opEvent := trail.NewSystemEvent(trail.AuditLog(""), "api_key.created", trail.Actor{Type: trail.ActorSystem, ID: "cli"},
		trail.Context{}, time.Now())
	if err := e.writer.Append(t.Context(), &trail.Batch{Events: []*trail.Event{opEvent}}); err != nil {
		t.Fatal(err)
	}
	c := e.signedIn(t, op)
	acmeEvent := seeded[0]

	t.Run("OperatorLog", func(t *testing.T) {
		status, body := e.get(t, c, "/events?limit=200")
		if status != http.StatusOK || !strings.Contains(body, opEvent.ID) || !strings.Contains(body, "system.maintenance") {
			t.Fatalf("status %d; the operator's own log lacks the operator or system events:\n%s", status, body)
		}
		if strings.Contains(body, acmeEvent.ID) || strings.Contains(body, "secret.globex_only") {
			t.Fatal("the operator log shows a tenant's events without ?tenant=")
		}
		if got := e.recorded(t, "acme", trail.ActionTenantViewedByOperator); len(got) != 0 {
			t.Fatalf("reading the operator log recorded %d views in acme", len(got))
		}
	})
	t.Run("TenantView", func(t *testing.T) {
		status, body := e.get(t, c, "/events?tenant=acme&limit=200")
		if status != http.StatusOK || !strings.Contains(body, acmeEvent.ID) || strings.Contains(body, opEvent.ID) ||
			strings.Contains(body, "secret.globex_only") || strings.Contains(body, `id="export"`) {
			t.Fatalf("status %d; acme's log as the operator sees it:\n%s", status, body)
		}
		got := e.recorded(t, "acme", trail.ActionTenantViewedByOperator)
		if len(got) != 1 || got[0].Actor.ID != op.ID || got[0].Actor.Type != trail.ActorUser {
			t.Fatalf("acme has %d operator views recorded (%+v), want 1 naming the operator", len(got), got)
		}
		if status, _ := e.get(t, c, "/events/"+acmeEvent.ID); status != http.StatusOK {
			t.Fatalf("the operator's view of acme's event: status %d", status)
		}
		got = e.recorded(t, "acme", trail.ActionTenantViewedByOperator)
		if len(got) != 2 || len(got[1].Targets) != 1 || got[1].Targets[0].ID != acmeEvent.ID {
			t.Fatalf("the event page's view was not recorded with the event as target: %+v", got)
		}
		if n := len(e.recorded(t, "globex", trail.ActionTenantViewedByOperator)); n != 0 {
			t.Fatalf("globex has %d operator views recorded, want 0", n)
		}
	})
	t.Run("ErrBadTenant", func(t *testing.T) {
		status, body := e.get(t, c, "/events?tenant="+url.QueryEscape("@operator"))
		if status != http.StatusBadRequest || !strings.Contains(body, "tenant") {
			t.Fatalf("status %d, want 400 naming tenant:\n%s", status, body)
		}
	})
	t.Run("ReadOnly", func(t *testing.T) {
		for _, path := range []string{"/settings", "/users"} {
			if status, _ := e.get(t, c, path); status != http.StatusForbidden {
				t.Errorf("GET %s as the operator: status %d, want 403", path, status)
			}
		}
		_, page := e.get(t, c, "/events")
		resp, _ := e.post(t, c, "/settings/keys", url.Values{"csrf": {csrf(t, page)}, "name": {"x"}, "scopes": {"events:read"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("creating a key as the operator: status %d, want 403", resp.StatusCode)
		}
	})
	t.Run("ErrTenantUserNamesTenant", func(t *testing.T) {
		tc := e.signedIn(t, e.owner)
		status, body := e.get(t, tc, "/events?tenant=globex")
		if status != http.StatusBadRequest || !strings.Contains(body, "tenant") || strings.Contains(body, "secret.globex_only") {
			t.Fatalf("a tenant's owner asking for globex: status %d:\n%s", status, body)
		}
		_, body = e.get(t, tc, "/events?limit=200")
		if strings.Contains(body, opEvent.ID) {
			t.Fatal("a tenant's owner sees the operator log")
		}
		if status, _ := e.get(t, tc, "/events/"+opEvent.ID); status != http.StatusNotFound {
			t.Fatalf("a tenant's owner reading an operator event by id: status %d, want 404", status)
		}
	})
}
