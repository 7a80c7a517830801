package httpapi_test

import (
	"strings"
	"testing"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/httpapi"
)

const ssoBody = `{"issuer":"https://login.acme.example","client_id":"trail","client_secret":"very-secret-value",
	"allowed_domains":["Acme.example"],"role_claim":"groups","role_mapping":{"trail-admins":"admin"},
	"default_role":"member","create_users":true}`

func TestSSOSettings(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		config := &trail.SSOProvider{Tenant: "initech", Issuer: "https://login.initech.example", ClientID: "c",
			ClientSecret: "from-the-config-file", ManagedBy: trail.ManagedByConfig}
		e := newEnv(t, s, func(c *httpapi.Config) { c.SSOProviders = []*trail.SSOProvider{config} })
		acme := e.newKey(t, "acme", false, trail.ScopeAdmin)
		e.do(t, "GET", "/v1/sso", acme, "").wantError(t, 404, trail.ENOTFOUND, "")
		for body, field := range map[string]string{
			`{"issuer":"http://login.acme.example","client_id":"c","client_secret":"s"}`:                           "issuer",
			`{"issuer":"https://login.acme.example","client_id":"c"}`:                                              "client_secret",
			`{"issuer":"https://login.acme.example","client_id":"c","client_secret":"s","default_role":"boss"}`:    "default_role",
			`{"issuer":"https://l.acme.example","client_id":"c","client_secret":"s","role_mapping":{"g":"admin"}}`: "role_claim",
			`{"issuer":"https://l.acme.example","client_id":"c","client_secret":"s","allowed_domains":["x@y"]}`:    "allowed_domains[0]",
			`{"issuer":"https://l.acme.example","client_id":"c","client_secret":"s","tenant":"globex"}`:            "tenant",
			`{"issuer":"https://l.acme.example","client_id":"c","client_secret":"s","secret":"x"}`:                 "secret",
		} {
			e.do(t, "PUT", "/v1/sso", acme, body).wantError(t, 400, trail.EINVALID, field)
		}
		created := e.do(t, "PUT", "/v1/sso", acme, ssoBody).want(t, 201)
		e.do(t, "PUT", "/v1/sso", acme, `{"issuer":"https://login.acme.example","client_id":"trail2","required":true}`).want(t, 200)
		got := e.do(t, "GET", "/v1/sso", acme, "").want(t, 200)
		for _, r := range []*response{created, got} {
			if strings.Contains(string(r.body), "very-secret-value") || !strings.Contains(string(r.body), `"client_secret_set":true`) {
				t.Fatalf("answer shows the secret or hides that it is set: %s", r.body)
			}
		}
		p, err := s.SSOProvider(t.Context(), "acme")
		if err != nil || p.ClientSecret != "very-secret-value" || p.ClientID != "trail2" || !p.Required || len(p.Domains) != 0 {
			t.Fatalf("stored provider = %+v, %v; want the update with the first secret kept", p, err)
		}
		e.do(t, "GET", "/v1/sso", e.platform, "").wantError(t, 400, trail.EINVALID, "tenant")
		e.do(t, "GET", "/v1/sso?tenant=acme", e.platform, "").want(t, 200)
		e.do(t, "GET", "/v1/sso?tenant=initech", e.platform, "").want(t, 200)
		e.do(t, "PUT", "/v1/sso", e.platform, `{"tenant":"initech","issuer":"https://x.example","client_id":"c","client_secret":"s"}`).
			wantError(t, 409, trail.ECONFLICT, "")
		e.do(t, "DELETE", "/v1/sso?tenant=initech", e.platform, "").wantError(t, 409, trail.ECONFLICT, "")
		e.do(t, "DELETE", "/v1/sso", acme, "").want(t, 204)
		e.do(t, "DELETE", "/v1/sso", acme, "").wantError(t, 404, trail.ENOTFOUND, "")
		if got := strings.Join(e.auditActions(t, "acme"), " "); got != "oidc.configured oidc.updated oidc.disabled" {
			t.Fatalf("acme audit events = %q", got)
		}
	})
}
