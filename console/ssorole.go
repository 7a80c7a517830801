package console

import (
	"net/http"

	"github.com/trailhq/trail"
)

// mapsRoles reports whether p decides u's role at every sign-in: p maps
// claim values to roles (role_mapping), and u is a tenant's user (platform
// users are owners by definition).
func mapsRoles(p *trail.SSOProvider, u *trail.User) bool {
	return len(p.RoleMap) > 0 && !u.Platform()
}

// ssoActor is who changes a role at a single sign-on: the provider,
// through its role mapping.
func ssoActor(p *trail.SSOProvider) trail.Actor {
	return trail.Actor{Type: trail.ActorSystem, ID: "sso", Name: p.Issuer}
}

// syncSSORole gives u, signing in through p, the role that p's claims map
// them to (mapped, not empty) when p maps roles, and records
// user.role_changed with the provider as actor. The tenant's last owner
// keeps the role: the sign-in goes on, the refusal is logged, and
// login.success names the role mapped and why it was not given
// (role_mapped, role_kept). It returns the user as signed in and what
// login.success records.
func (s *Server) syncSSORole(r *http.Request, p *trail.SSOProvider, u *trail.User, mapped string) (*trail.User, map[string]any, error) {
	login := map[string]any{"method": "sso"}
	if !mapsRoles(p, u) || mapped == u.Role {
		return u, login, nil
	}
	c, now := s.clientContext(r), s.now()
	after, err := trail.UpdateUserRecorded(r.Context(), s.users, s.record, u.Tenant, u.ID,
		func(x *trail.User) error { x.Role = mapped; return nil },
		func(before, after *trail.User) []*trail.Event {
			return trail.UserEvents(ssoActor(p), c, before, after, now)
		})
	switch {
	case trail.ErrorCode(err) == trail.ECONFLICT:
		s.logger.Warn("single sign-on role mapping not applied: the tenant's last owner keeps the role",
			"tenant", u.Tenant, "user", u.ID, "role", u.Role, "mapped", mapped)
		login["role_mapped"], login["role_kept"] = mapped, "last_owner"
		return u, login, nil
	case err != nil:
		return nil, nil, err
	}
	return after, login, nil
}
