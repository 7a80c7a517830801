package httpapi

import (
	"net/http"

	"github.com/trailhq/trail"
)

// The SSO routes show, set and remove a tenant's OpenID Connect provider.
// The client secret is write-only: answers say whether it is set.

// ssoRequest is the body of PUT /v1/sso.
type ssoRequest struct {
	Tenant         string            `json:"tenant"`
	Issuer         string            `json:"issuer"`
	ClientID       string            `json:"client_id"`
	ClientSecret   string            `json:"client_secret"`
	AllowedDomains []string          `json:"allowed_domains"`
	RoleClaim      string            `json:"role_claim"`
	RoleMapping    map[string]string `json:"role_mapping"`
	DefaultRole    string            `json:"default_role"`
	CreateUsers    bool              `json:"create_users"`
	Required       bool              `json:"required"`
}

// ssoView is a provider as the API shows it.
type ssoView struct {
	*trail.SSOProvider
	ClientSecretSet bool `json:"client_secret_set"`
}

// ssoTenant is the tenant whose provider a request manages: a tenant key's
// own; a platform key must name one.
func ssoTenant(caller *trail.APIKey, requested string) (string, error) {
	tenant, err := adminTenant(caller, requested)
	if err == nil && tenant == "" {
		err = trail.Invalid("tenant", "required with a platform key: the tenant whose single sign-on to manage")
	}
	return tenant, err
}

func (s *Server) handleGetSSO(w http.ResponseWriter, r *http.Request) error {
	tenant, err := ssoTenant(apiKey(r), query(r).Get("tenant"))
	if err != nil {
		return err
	}
	p, err := s.sso.For(r.Context(), tenant)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ssoView{p.Redacted(), p.ClientSecret != ""})
	return nil
}

// handleSetSSO sets a tenant's provider; the change is recorded
// (oidc.configured or oidc.updated) before it is stored.
func (s *Server) handleSetSSO(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, 64<<10)
	if err != nil {
		return err
	}
	var req ssoRequest
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	tenant, err := ssoTenant(apiKey(r), req.Tenant)
	if err != nil {
		return err
	}
	p := &trail.SSOProvider{
		Tenant: tenant, Issuer: req.Issuer, ClientID: req.ClientID, ClientSecret: req.ClientSecret,
		Domains: req.AllowedDomains, RoleClaim: req.RoleClaim, RoleMap: req.RoleMapping,
		DefaultRole: req.DefaultRole, CreateUsers: req.CreateUsers, Required: req.Required,
	}
	action, err := s.sso.Prepare(r.Context(), p, s.now())
	if err != nil {
		return err
	}
	if err := s.record(r, tenant, action, p.Redacted()); err != nil {
		return err
	}
	created, err := s.store.SetSSOProvider(r.Context(), p)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, ssoView{p.Redacted(), true})
	return nil
}

// handleDeleteSSO turns a tenant's single sign-on off (oidc.disabled):
// its users sign in with passwords again.
func (s *Server) handleDeleteSSO(w http.ResponseWriter, r *http.Request) error {
	tenant, err := ssoTenant(apiKey(r), query(r).Get("tenant"))
	if err != nil {
		return err
	}
	p, err := s.sso.Deletable(r.Context(), tenant)
	if err != nil {
		return err
	}
	if err := s.record(r, tenant, trail.ActionOIDCDisabled, map[string]string{"issuer": p.Issuer}); err != nil {
		return err
	}
	if err := s.store.DeleteSSOProvider(r.Context(), tenant); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
