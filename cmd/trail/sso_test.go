package main_test

import (
	"io"
	"strings"
	"testing"

	"github.com/trailhq/trail"
	main "github.com/trailhq/trail/cmd/trail"
)

func TestConfigSSO(t *testing.T) {
	secret := writeFile(t, "sso-secret", "from-a-file\n")
	file := writeFile(t, "trail.yaml", `public_url: https://trail.example.com
sso:
  issuer: https://login.example.com/realms/corp
  client_id: trail
  client_secret_file: `+secret+`
  tenants: [acme, globex]
  allowed_domains: [Example.com]
  role_claim: groups
  role_mapping: {trail-admins: admin}
  default_role: member
  create_users: true
  required: true
`)
	cfg, err := main.LoadConfig([]string{"--config", file}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := cfg.SSO.Providers()
	if err != nil || len(ps) != 2 {
		t.Fatalf("Providers = %v, %v; want 2", ps, err)
	}
	p := ps[1]
	if p.Tenant != "globex" || p.ClientSecret != "from-a-file" || p.ManagedBy != trail.ManagedByConfig ||
		!p.Required || !p.CreateUsers || p.RoleFor(map[string]any{"groups": []any{"trail-admins"}}) != trail.RoleAdmin {
		t.Fatalf("provider = %+v", p)
	}
	if cfg.PublicURL != "https://trail.example.com" {
		t.Fatalf("public_url = %q", cfg.PublicURL)
	}

	for content, want := range map[string]string{
		"sso:\n  issuer: https://l.example.com\n  client_id: c\n  client_secret: s\n":                         "sso.tenants: required",
		"sso:\n  issuer: ftp://l.example.com\n  client_id: c\n  client_secret: s\n  tenants: [a]\n":           "sso.issuer:",
		"sso:\n  issuer: https://l.example.com\n  client_id: c\n  tenants: [a]\n":                             "sso.client_secret:",
		"sso:\n  issuer: https://l.example.com\n  client_id: c\n  client_secret: s\n  tenants: [a]\n  x: 1\n": "unknown key x",
		"public_url: https://trail.example.com/console\n":                                                     "--public-url",
	} {
		_, err := main.LoadConfig([]string{"--config", writeFile(t, "bad.yaml", content)}, env(nil), io.Discard)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("config %q: error %v, want one naming %q", content, err, want)
		}
	}
}
