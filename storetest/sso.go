package storetest

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/secretbox"
)

func newSSO(tenant string, domains ...string) *trail.SSOProvider {
	return &trail.SSOProvider{
		Tenant: tenant, Issuer: "https://login.example.com/" + tenant, ClientID: "trail-" + tenant,
		ClientSecret: "secret-of-" + tenant, Domains: domains, RoleClaim: "groups",
		RoleMap: map[string]string{"trail-admins": trail.RoleAdmin}, DefaultRole: trail.RoleMember,
		CreateUsers: true, ManagedBy: trail.ManagedByAPI, CreatedAt: base, UpdatedAt: base,
	}
}

func testSSOProviders(t *testing.T, open func(t *testing.T) trail.Store) {
	s := open(t)
	if ks, ok := s.(interface{ UseSecrets(*secretbox.Keyring) }); ok {
		k, err := secretbox.LoadOrCreate(filepath.Join(t.TempDir(), secretbox.KeyFile))
		if err != nil {
			t.Fatal(err)
		}
		ks.UseSecrets(k) // the client secret is sealed, and must read back whole
	}
	_, err := s.SSOProvider(ctx(t), "acme")
	wantCode(t, err, trail.ENOTFOUND)
	acme, globex := newSSO("acme", "acme.example", "shared.example"), newSSO("globex", "shared.example")
	for _, p := range []*trail.SSOProvider{acme, globex} {
		if created, err := s.SetSSOProvider(ctx(t), p); err != nil || !created {
			t.Fatalf("SetSSOProvider(%s) = %v, %v; want created", p.Tenant, created, err)
		}
	}
	got, err := s.SSOProvider(ctx(t), "acme")
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "SSOProvider", got, acme)

	t.Run("ForDomain", func(t *testing.T) {
		wantSSOTenants(t, s, "shared.example", "acme", "globex")
		wantSSOTenants(t, s, "acme.example", "acme")
		wantSSOTenants(t, s, "other.example")
	})
	t.Run("Replace", func(t *testing.T) {
		upd := newSSO("acme", "acme.example")
		upd.Required, upd.ClientSecret, upd.UpdatedAt = true, "rotated", base.Add(time.Hour)
		if created, err := s.SetSSOProvider(ctx(t), upd); err != nil || created {
			t.Fatalf("SetSSOProvider(replace) = %v, %v; want replaced", created, err)
		}
		got, err := s.SSOProvider(ctx(t), "acme")
		if err != nil {
			t.Fatal(err)
		}
		upd.CreatedAt = base // kept from the first version
		wantEqual(t, "replaced provider", got, upd)
		wantSSOTenants(t, s, "shared.example", "globex")
	})
	t.Run("Delete", func(t *testing.T) {
		if err := s.DeleteSSOProvider(ctx(t), "acme"); err != nil {
			t.Fatal(err)
		}
		_, err := s.SSOProvider(ctx(t), "acme")
		wantCode(t, err, trail.ENOTFOUND)
		wantSSOTenants(t, s, "acme.example")
		wantCode(t, s.DeleteSSOProvider(ctx(t), "acme"), trail.ENOTFOUND)
	})
}

func wantSSOTenants(t *testing.T, s trail.SSOStore, domain string, tenants ...string) {
	t.Helper()
	ps, err := s.SSOProvidersForDomain(ctx(t), domain)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, p := range ps {
		got = append(got, p.Tenant)
	}
	wantEqual(t, "SSOProvidersForDomain("+domain+")", got, append([]string{}, tenants...))
}

func testSSOLogins(t *testing.T, open func(t *testing.T) trail.Store) {
	s := open(t)
	l := &trail.SSOLogin{StateHash: "s1", BindingHash: "b1", Tenant: "acme", Nonce: "n1", Verifier: "v1",
		Next: "/events", ExpiresAt: base.Add(10 * time.Minute)}
	old := &trail.SSOLogin{StateHash: "s0", BindingHash: "b0", Tenant: "acme", ExpiresAt: base.Add(time.Minute)}
	if err := s.CreateSSOLogin(ctx(t), old, base); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSSOLogin(ctx(t), l, base); err != nil {
		t.Fatal(err)
	}
	t.Run("Expired", func(t *testing.T) {
		_, err := s.TakeSSOLogin(ctx(t), "s0", base.Add(2*time.Minute))
		wantCode(t, err, trail.ENOTFOUND)
	})
	t.Run("OnlyOnce", func(t *testing.T) {
		got, err := s.TakeSSOLogin(ctx(t), "s1", base.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, "TakeSSOLogin", got, l)
		_, err = s.TakeSSOLogin(ctx(t), "s1", base.Add(time.Minute))
		wantCode(t, err, trail.ENOTFOUND)
	})
	t.Run("PrunedOnCreate", func(t *testing.T) {
		stale := &trail.SSOLogin{StateHash: "s2", Tenant: "acme", ExpiresAt: base.Add(time.Minute)}
		if err := s.CreateSSOLogin(ctx(t), stale, base); err != nil {
			t.Fatal(err)
		}
		fresh := &trail.SSOLogin{StateHash: "s3", Tenant: "acme", ExpiresAt: base.Add(time.Hour)}
		if err := s.CreateSSOLogin(ctx(t), fresh, base.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		_, err := s.TakeSSOLogin(ctx(t), "s2", base) // not yet expired at base, but pruned
		wantCode(t, err, trail.ENOTFOUND)
	})
}
