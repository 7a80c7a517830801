package console

import (
	"encoding/json"
	"net/http"

	"github.com/trailhq/trail"
)

// auditView records that v read event e (when Config.AuditReads is set).
// It returns an error when the record cannot be stored: the page is then
// not shown.
func (s *Server) auditView(r *http.Request, v *viewer, e *trail.Event) error {
	if !s.cfg.AuditReads {
		return nil
	}
	meta, _ := json.Marshal(map[string]string{"source": "console", "event_tenant": e.Tenant})
	return s.audit(r.Context(), v.user.Tenant, trail.ActionEventViewed, v.user.Actor(), s.clientContext(r), meta,
		trail.Target{Type: "event", ID: e.ID, Name: e.Action})
}

// auditList records that v read an entity's timeline (entity.viewed) or a
// filtered listing (events.searched); the plain timeline is not recorded.
func (s *Server) auditList(r *http.Request, v *viewer, lv *listView, f *filters) error {
	if !s.cfg.AuditReads {
		return nil
	}
	filters := trail.SearchFilters(f.values)
	action, targets := trail.ActionEventsSearched, []trail.Target(nil)
	switch {
	case lv.Entity != nil:
		action, targets = trail.ActionEntityViewed, []trail.Target{*lv.Entity}
		delete(filters, "target_type")
		delete(filters, "target_id")
	case len(filters) == 0:
		return nil
	}
	m := map[string]any{"source": "console", "page": f.page, "results": len(lv.Events)}
	if len(filters) > 0 {
		m["filters"] = filters
	}
	meta, _ := json.Marshal(m) // plain values always encode
	return s.audit(r.Context(), v.user.Tenant, action, v.user.Actor(), s.clientContext(r), meta, targets...)
}
