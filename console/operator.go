package console

import (
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/trailhq/trail"
)

// Platform console users (tenant trail.OperatorTenant) read the operator
// log and system events as their own log, and may open any tenant's log
// read-only: the audit log with ?tenant=NAME, or an event's page. Each
// page of a tenant's log they open is recorded in that tenant's log as
// tenant.viewed_by_operator, before the page is shown, so that customers
// see when the operator looked.

// listScope is what v reads on a list page, and the parameters left for
// the filters: v's own scope, or for a platform user the tenant that
// ?tenant= names (returned as tenant).
func listScope(r *http.Request, v *viewer) (scope trail.Scope, tenant string, rest url.Values, err error) {
	rest = cloneValues(query(r))
	tenant = rest.Get("tenant")
	rest.Del("tenant")
	switch {
	case tenant == "":
		return v.user.Scope(), "", rest, nil
	case !v.user.Platform():
		return scope, "", nil, trail.Invalid("tenant", "only operator accounts open another organization's log")
	case !trail.ValidTenant(tenant):
		return scope, "", nil, trail.Invalid("tenant", "must be an organization's name: 1 to 64 letters, digits, '.', '_' or '-'")
	}
	return trail.Scope{Tenant: tenant}, tenant, rest, nil
}

// eventScope is what v may read by an event's id: its own scope, or every
// log for a platform user (whose view of a tenant's event is recorded).
func eventScope(v *viewer) trail.Scope {
	if v.user.Platform() {
		return trail.Scope{All: true}
	}
	return v.user.Scope()
}

// recordOperatorView records that platform user v opened a page of
// tenant's log. Views of the operator's own logs (the operator log and
// system events) and of other users are not recorded here.
func (s *Server) recordOperatorView(r *http.Request, v *viewer, tenant, page string, targets ...trail.Target) error {
	if !v.user.Platform() || !trail.ValidTenant(tenant) {
		return nil
	}
	meta, _ := json.Marshal(map[string]string{"source": "console", "page": page}) // plain strings always encode
	return s.audit(r.Context(), tenant, trail.ActionTenantViewedByOperator, v.user.Actor(), s.clientContext(r), meta, targets...)
}

// readOnly adapts h, a page that changes a tenant's settings, users or
// keys: platform users are refused, since their console reads tenants'
// logs and changes nothing of theirs.
func (s *Server) readOnly(h userHandler) userHandler {
	return func(w http.ResponseWriter, r *http.Request, v *viewer) error {
		if v.user.Platform() {
			return trail.Errorf(trail.EFORBIDDEN,
				"Operator accounts read the logs; they cannot change settings, keys or users. Use the API or the trail command.")
		}
		return h(w, r, v)
	}
}

// entityTargets is the target of an entity's timeline, none for the log.
func entityTargets(t *trail.Target) []trail.Target {
	if t == nil {
		return nil
	}
	return []trail.Target{*t}
}
