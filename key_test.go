package trail_test

import (
	"testing"
	"time"

	"github.com/trailhq/trail"
)

func TestAPIKey(t *testing.T) {
	k, secret, err := trail.NewAPIKey("ci", "acme", false, []string{trail.ScopeEventsWrite}, time.Time{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := trail.KeyIDFromSecret(secret); !ok || id != k.ID {
		t.Errorf("KeyIDFromSecret = %q, %v; want %q", id, ok, k.ID)
	}
	if !k.Authenticate(secret, now) || k.Authenticate(secret+"x", now) || k.Authenticate("", now) {
		t.Error("Authenticate accepts only the secret")
	}
	if k.HasScope(trail.ScopeEventsRead) || !k.HasScope(trail.ScopeEventsWrite) {
		t.Error("scopes")
	}
	if tenant, ok := k.WriteTenant("other"); ok {
		t.Errorf("tenant key wrote to %q", tenant)
	}
	if got := k.ReadScope("other"); got != (trail.Scope{Tenant: "acme"}) {
		t.Errorf("tenant key reads %+v", got)
	}
	t.Run("Revoked", func(t *testing.T) {
		k2 := *k
		k2.RevokedAt = now
		if k2.Authenticate(secret, now) {
			t.Error("revoked key authenticated")
		}
	})
	t.Run("Expired", func(t *testing.T) {
		k3, s3, _ := trail.NewAPIKey("", "", true, []string{trail.ScopeAdmin}, now.Add(time.Hour), now)
		if !k3.Authenticate(s3, now) || k3.Authenticate(s3, now.Add(time.Hour)) {
			t.Error("expiry not honored")
		}
		if !k3.HasScope(trail.ScopeEventsRead) {
			t.Error("admin grants every scope")
		}
		if tenant, ok := k3.WriteTenant(""); !ok || tenant != "" {
			t.Error("platform key writes system events")
		}
	})
	for _, tt := range []struct {
		name, tenant string
		platform     bool
		scopes       []string
		field        string
	}{
		{"TenantRequired", "", false, []string{"admin"}, "tenant"},
		{"PlatformWithTenant", "acme", true, []string{"admin"}, "tenant"},
		{"NoScopes", "acme", false, nil, "scopes"},
		{"UnknownScope", "acme", false, []string{"events:delete"}, "scopes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := trail.NewAPIKey("", tt.tenant, tt.platform, tt.scopes, time.Time{}, now)
			if trail.ErrorCode(err) != trail.EINVALID || err.(*trail.Error).Details[0].Field != tt.field {
				t.Errorf("err = %v, want invalid %s", err, tt.field)
			}
		})
	}
}
