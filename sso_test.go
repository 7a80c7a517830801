package trail_test

import (
	"errors"
	"testing"

	"github.com/trailhq/trail"
)

func TestSSOProviderValidate(t *testing.T) {
	valid := func() *trail.SSOProvider {
		return &trail.SSOProvider{Tenant: "acme", Issuer: "https://login.example.com/realms/acme", ClientID: "trail",
			ClientSecret: "s", Domains: []string{" Acme.Example ", "acme.example", "b.example"}, RoleClaim: "groups",
			RoleMap: map[string]string{"trail-admins": "admin"}, DefaultRole: "member"}
	}
	p := valid()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := p.Domains; len(got) != 2 || got[0] != "acme.example" || got[1] != "b.example" {
		t.Fatalf("domains = %q, want normalized, sorted and without duplicates", got)
	}
	for _, tt := range []struct {
		name, field string
		change      func(p *trail.SSOProvider)
	}{
		{"ErrTenant", "tenant", func(p *trail.SSOProvider) { p.Tenant = "a/b" }},
		{"ErrIssuerHTTP", "issuer", func(p *trail.SSOProvider) { p.Issuer = "http://login.example.com" }},
		{"ErrIssuerQuery", "issuer", func(p *trail.SSOProvider) { p.Issuer = "https://login.example.com/?x=1" }},
		{"ErrIssuerRelative", "issuer", func(p *trail.SSOProvider) { p.Issuer = "/realms/acme" }},
		{"ErrClientID", "client_id", func(p *trail.SSOProvider) { p.ClientID = "" }},
		{"ErrClientSecret", "client_secret", func(p *trail.SSOProvider) { p.ClientSecret = "a\nb" }},
		{"ErrDomain", "allowed_domains[1]", func(p *trail.SSOProvider) { p.Domains = []string{"a.example", "localhost"} }},
		{"ErrDefaultRole", "default_role", func(p *trail.SSOProvider) { p.DefaultRole = "root" }},
		{"ErrMappedRole", "role_mapping.x", func(p *trail.SSOProvider) { p.RoleMap = map[string]string{"x": "root"} }},
		{"ErrMappingWithoutClaim", "role_claim", func(p *trail.SSOProvider) { p.RoleClaim = "" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := valid()
			tt.change(p)
			err := p.Validate()
			var te *trail.Error
			if !errors.As(err, &te) || te.Details[0].Field != tt.field {
				t.Fatalf("Validate = %v, want a problem with %s", err, tt.field)
			}
		})
	}
	t.Run("LoopbackHTTP", func(t *testing.T) {
		p := valid()
		p.Issuer = "http://127.0.0.1:5556/dex"
		if err := p.Validate(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestSSOProviderRoles(t *testing.T) {
	p := &trail.SSOProvider{RoleClaim: "groups", DefaultRole: trail.RoleMember,
		RoleMap: map[string]string{"ops": trail.RoleAdmin, "founders": trail.RoleOwner}, Domains: []string{"acme.example"}}
	for _, tt := range []struct {
		claims map[string]any
		want   string
	}{
		{map[string]any{"groups": []any{"ops", "founders"}}, trail.RoleOwner}, // the most powerful wins
		{map[string]any{"groups": "ops"}, trail.RoleAdmin},
		{map[string]any{"groups": []any{"staff", 7}}, trail.RoleMember},
		{map[string]any{}, trail.RoleMember},
	} {
		if got := p.RoleFor(tt.claims); got != tt.want {
			t.Errorf("RoleFor(%v) = %q, want %q", tt.claims, got, tt.want)
		}
	}
	p.DefaultRole = ""
	if got := p.RoleFor(map[string]any{"groups": "staff"}); got != "" {
		t.Errorf("RoleFor without a match and no default = %q, want none", got)
	}
	if !p.DomainAllowed("a@ACME.example") || p.DomainAllowed("a@acme.example.evil") || p.DomainAllowed("acme.example") {
		t.Error("DomainAllowed matches more or less than the listed domain")
	}
}
