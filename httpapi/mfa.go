package httpapi

import (
	"net/http"

	"github.com/trailhq/trail"
)

// The MFA routes show and set whether a tenant requires multi-factor
// sign-in of its password users: the owner's switch of the console's
// Settings page.

// mfaSettings is the body of PUT /v1/settings/mfa and the answer of both
// routes.
type mfaSettings struct {
	Tenant   string `json:"tenant,omitempty"`
	Required *bool  `json:"required"`
}

func (s *Server) handleGetMFA(w http.ResponseWriter, r *http.Request) error {
	tenant, err := usersTenant(r)
	if err != nil {
		return err
	}
	required, err := s.store.MFARequired(r.Context(), tenant)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, mfaSettings{tenant, &required})
	return nil
}

// handleSetMFA turns the requirement on or off and records
// mfa.required_changed when that changes it. Only an owner may: a
// platform key acts as one, a tenant key as an admin (see trail.KeyRole).
func (s *Server) handleSetMFA(w http.ResponseWriter, r *http.Request) error {
	tenant, err := usersTenant(r)
	if err != nil {
		return err
	}
	var req mfaSettings
	if err := readJSON(w, r, maxUserRequestBytes, &req); err != nil {
		return err
	}
	switch {
	case req.Required == nil:
		return trail.Invalid("required", "must be true or false")
	case req.Tenant != "" && req.Tenant != tenant:
		return trail.Invalid("tenant", "must be left out, or name the tenant of the request ("+tenant+")")
	case trail.KeyRole(apiKey(r)) != trail.RoleOwner:
		return trail.Errorf(trail.EFORBIDDEN, "only an owner can require multi-factor sign-in: a tenant key acts as an admin; use a platform key, or an owner in the console")
	}
	if _, err := trail.SetMFARequiredRecorded(r.Context(), s.store, s.appendEvents, tenant, *req.Required,
		apiKey(r).Actor(), s.clientContext(r), s.now()); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, mfaSettings{tenant, req.Required})
	return nil
}
