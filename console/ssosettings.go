package console

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/trailhq/trail"
)

// ssoView is the single sign-on section of the settings page.
type ssoView struct {
	// Provider is the tenant's provider without its secret, nil when it
	// has none.
	Provider *trail.SSOProvider
	// Domains and RoleMap are the provider's, as the form shows them.
	Domains, RoleMap string
	// RedirectURI is what to register with the provider.
	RedirectURI string
}

func (s *Server) ssoSettings(r *http.Request, v *viewer) (*ssoView, error) {
	sv := &ssoView{RedirectURI: s.callbackURL(r)}
	p, err := s.ssoProviders().For(r.Context(), v.user.Tenant)
	switch {
	case trail.ErrorCode(err) == trail.ENOTFOUND:
		return sv, nil
	case err != nil:
		return nil, err
	}
	sv.Provider, sv.Domains = p.Redacted(), strings.Join(p.Domains, ", ")
	var lines []string
	for _, k := range slices.Sorted(maps.Keys(p.RoleMap)) {
		lines = append(lines, k+" = "+p.RoleMap[k])
	}
	sv.RoleMap = strings.Join(lines, "\n")
	return sv, nil
}

// handleSaveSSO sets the tenant's provider from the settings form. The
// change is recorded before it is stored.
func (s *Server) handleSaveSSO(w http.ResponseWriter, r *http.Request, v *viewer) error {
	f := r.PostFormValue
	p := &trail.SSOProvider{
		Tenant: v.user.Tenant, Issuer: strings.TrimSpace(f("issuer")), ClientID: strings.TrimSpace(f("client_id")),
		ClientSecret: f("client_secret"), Domains: strings.FieldsFunc(f("allowed_domains"), isListSep),
		RoleClaim: strings.TrimSpace(f("role_claim")), DefaultRole: f("default_role"),
		CreateUsers: f("create_users") == "on", Required: f("required") == "on",
	}
	var err error
	if p.RoleMap, err = parseRoleMap(f("role_mapping")); err == nil {
		err = s.saveSSO(r, v, p)
	}
	switch {
	case trail.ErrorCode(err) == trail.EINVALID || trail.ErrorCode(err) == trail.ECONFLICT:
		return s.renderSettings(w, r, v, http.StatusBadRequest, &settingsView{Error: "Single sign-on: " + trail.ErrorMessage(err)})
	case err != nil:
		return err
	}
	http.Redirect(w, r, "/settings?notice=sso-saved#sso", http.StatusSeeOther)
	return nil
}

func (s *Server) saveSSO(r *http.Request, v *viewer, p *trail.SSOProvider) error {
	action, err := s.ssoProviders().Prepare(r.Context(), p, s.now())
	if err != nil {
		return err
	}
	meta, _ := json.Marshal(p.Redacted())
	if err := s.audit(r.Context(), v.user.Tenant, action, v.user.Actor(), s.clientContext(r), meta); err != nil {
		return err
	}
	_, err = s.store.SetSSOProvider(r.Context(), p)
	s.ssoTenant.Forget(p.Issuer)
	return err
}

// handleDeleteSSO turns single sign-on off for the tenant.
func (s *Server) handleDeleteSSO(w http.ResponseWriter, r *http.Request, v *viewer) error {
	ctx := r.Context()
	p, err := s.ssoProviders().Deletable(ctx, v.user.Tenant)
	if err != nil {
		return err
	}
	meta, _ := json.Marshal(map[string]string{"issuer": p.Issuer})
	if err := s.audit(ctx, v.user.Tenant, trail.ActionOIDCDisabled, v.user.Actor(), s.clientContext(r), meta); err != nil {
		return err
	}
	if err := s.store.DeleteSSOProvider(ctx, v.user.Tenant); err != nil {
		return err
	}
	http.Redirect(w, r, "/settings?notice=sso-disabled#sso", http.StatusSeeOther)
	return nil
}

func isListSep(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }

// parseRoleMap reads "claim value = role" lines.
func parseRoleMap(text string) (map[string]string, error) {
	m := map[string]string{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, role, ok := strings.Cut(line, "=")
		if !ok {
			return nil, trail.Invalid("role_mapping", fmt.Sprintf("line %d: write claim value = role, such as trail-admins = admin", i+1))
		}
		m[strings.TrimSpace(k)] = strings.TrimSpace(role)
	}
	return m, nil
}
