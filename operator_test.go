package trail_test

import (
	"time"

	"testing"

	"github.com/trailhq/trail"
)

// TestOperatorTenant: the operator log's tenant id is one no client can
// name, that no tenant's scope includes, and where records with no tenant
// go.
func TestOperatorTenant(t *testing.T) {
	if trail.ValidTenant(trail.OperatorTenant) {
		t.Error("ValidTenant accepts the operator log's tenant")
	}
	if (trail.Scope{Tenant: "acme"}).Visible(trail.OperatorTenant) {
		t.Error("a tenant's scope sees the operator log")
	}
	if !(trail.Scope{All: true}).Visible(trail.OperatorTenant) {
		t.Error("a platform scope does not see the operator log")
	}
	for in, want := range map[string]string{"": trail.OperatorTenant, "acme": "acme", trail.OperatorTenant: trail.OperatorTenant} {
		if got := trail.AuditLog(in); got != want {
			t.Errorf("AuditLog(%q) = %q, want %q", in, got, want)
		}
	}
	if _, err := trail.NewUser("@other", "a@example.com", trail.RoleOwner, "hash", timeZero); err == nil {
		t.Error("NewUser accepts a tenant with '@' other than the operator's")
	}
	if u, err := trail.NewUser(trail.OperatorTenant, "a@example.com", trail.RoleOwner, "hash", timeZero); err != nil || !u.Platform() {
		t.Errorf("a platform user: %+v, %v", u, err)
	}
	if _, _, err := trail.NewAPIKey("k", trail.OperatorTenant, false, []string{trail.ScopeEventsRead}, timeZero, timeZero); err == nil {
		t.Error("a tenant key of the operator log was made")
	}
}

var timeZero = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
