package console

import (
	"net/http"
	"slices"
	"strings"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/schema"
)

// schemasView is the data of the schemas page.
type schemasView struct {
	Actions []trail.ActionInfo
	Mode    string
	Modes   []string
	Error   string
	Notice  string
}

// schemaView is the data of one action's schema page: every version of
// the schema line that applies to the tenant, newest first.
type schemaView struct {
	Action   string
	Platform bool // the line is the platform's, not the tenant's own
	Versions []*trail.ActionSchema
}

func (s *Server) handleSchemas(w http.ResponseWriter, r *http.Request, v *viewer) error {
	var notice string
	if query(r).Get("notice") == "mode" {
		notice = "Schema validation setting saved."
	}
	return s.renderSchemas(w, r, v, http.StatusOK, &schemasView{Notice: notice})
}

func (s *Server) renderSchemas(w http.ResponseWriter, r *http.Request, v *viewer, status int, sv *schemasView) error {
	ctx := r.Context()
	var err error
	if sv.Actions, err = schema.Actions(ctx, s.store, s.store, trail.Scope{Tenant: v.user.Tenant}); err != nil {
		return err
	}
	if sv.Mode, err = s.store.ValidationMode(ctx, v.user.Tenant); err != nil {
		return err
	}
	sv.Modes = trail.ValidationModes
	s.render(w, status, "schemas", newView(v, "Schemas", "settings", sv))
	return nil
}

// handleSchema shows every version of an action's schema.
func (s *Server) handleSchema(w http.ResponseWriter, r *http.Request, v *viewer) error {
	action := r.PathValue("action")
	if err := trail.CheckAction(action); err != nil {
		return err
	}
	owner, line, err := schema.Line(r.Context(), s.store, v.user.Tenant, action)
	if err != nil {
		return err
	}
	if len(line) == 0 {
		return trail.Errorf(trail.ENOTFOUND, "action %q has no schema", action)
	}
	slices.Reverse(line)
	sv := &schemaView{Action: action, Platform: owner != v.user.Tenant, Versions: line}
	s.render(w, http.StatusOK, "schema", newView(v, "Schema of "+action, "settings", sv))
	return nil
}

// handleSetValidation sets the tenant's validation mode, recorded first
// as the API records it; it applies to this node's next ingest at once.
func (s *Server) handleSetValidation(w http.ResponseWriter, r *http.Request, v *viewer) error {
	mode := r.PostFormValue("mode")
	if !slices.Contains(trail.ValidationModes, mode) {
		return s.renderSchemas(w, r, v, http.StatusBadRequest,
			&schemasView{Error: trail.ErrorMessage(trail.Invalid("mode", "must be "+strings.Join(trail.ValidationModes, ", ")))})
	}
	if err := s.audit(r.Context(), v.user.Tenant, "schema.validation_changed", v.user.Actor(), s.clientContext(r),
		consoleMeta(map[string]string{"mode": mode})); err != nil {
		return err
	}
	if err := s.store.SetValidationMode(r.Context(), v.user.Tenant, mode, s.now()); err != nil {
		return err
	}
	if s.cfg.Schemas != nil {
		s.cfg.Schemas.Forget(v.user.Tenant)
	}
	http.Redirect(w, r, "/settings/schemas?notice=mode", http.StatusSeeOther)
	return nil
}
