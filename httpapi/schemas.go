package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/schema"
)

// The schema routes register versioned JSON Schemas per action, list the
// actions with their schema versions, and set each tenant's validation
// mode. Ingest checks events against schemas through checkSchemas.

// registerSchemaRequest is the body of POST /v1/actions/{action}/schemas.
type registerSchemaRequest struct {
	// Tenant lets a platform key register for one tenant; absent, a
	// platform key registers the platform line.
	Tenant   string                     `json:"tenant"`
	Metadata json.RawMessage            `json:"metadata"`
	Targets  map[string]json.RawMessage `json:"targets"`
}

type schemaList struct {
	SchemaTenant string                `json:"schema_tenant"`
	Schemas      []*trail.ActionSchema `json:"schemas"`
}

type actionList struct {
	Actions []trail.ActionInfo `json:"actions"`
}

type validationSetting struct {
	Tenant string `json:"tenant"`
	Mode   string `json:"mode"`
}

// checkSchemas is ingest's schema hook: for tenants whose validation is
// on, events that do not match their action's schema version are EINVALID,
// with details such as "metadata.plan" or "targets[0].metadata.seats".
func (s *Server) checkSchemas(ctx context.Context, events []*trail.Event) error {
	if v := s.schemas; v != nil {
		return v.Check(ctx, events)
	}
	return nil
}

// newSchemas returns cfg.Schemas, or a validator over the store with the
// server's clock.
func newSchemas(cfg Config, now func() time.Time) *schema.Validator {
	if cfg.Schemas != nil {
		return cfg.Schemas
	}
	return schema.NewValidator(cfg.Store, now)
}

// adminTenant is whose settings a request manages: a tenant key its own
// tenant's; a platform key the platform's (tenant ""), or a tenant's named
// by requested.
func adminTenant(caller *trail.APIKey, requested string) (string, error) {
	switch {
	case caller.Platform:
		if requested != "" && !trail.ValidTenant(requested) {
			return "", trail.Invalid("tenant", "must be a tenant: 1 to 64 letters, digits, '.', '_' or '-'")
		}
		return requested, nil
	case requested == "" || requested == caller.Tenant:
		return caller.Tenant, nil
	default:
		return "", trail.Invalid("tenant", fmt.Sprintf("this API key manages tenant %q only", caller.Tenant))
	}
}

// handleRegisterSchema stores a new version of an action's schema.
func (s *Server) handleRegisterSchema(w http.ResponseWriter, r *http.Request) error {
	action := r.PathValue("action")
	if err := trail.CheckAction(action); err != nil {
		return err
	}
	var req registerSchemaRequest
	if err := readJSON(w, r, trail.MaxSchemaBytes, &req); err != nil {
		return err
	}
	sch, err := s.newSchema(apiKey(r), action, &req)
	if err != nil {
		return err
	}
	if err := schema.Register(r.Context(), s.store, sch); err != nil {
		return err
	}
	s.forgetSchemas(sch.Tenant)
	meta := map[string]any{"action": sch.Action, "version": sch.Version}
	if err := s.record(r, sch.Tenant, "schema.registered", meta, schemaTarget(sch.Action)); err != nil {
		return fmt.Errorf("record schema registration: %w", err)
	}
	writeJSON(w, http.StatusCreated, sch)
	return nil
}

func (s *Server) newSchema(caller *trail.APIKey, action string, req *registerSchemaRequest) (*trail.ActionSchema, error) {
	tenant, err := adminTenant(caller, req.Tenant)
	if err != nil {
		return nil, err
	}
	for t := range req.Targets {
		if t == "" || len(t) > 64 || hasControl(t) {
			return nil, trail.Invalid("targets", "keys must be target types of 1 to 64 characters")
		}
	}
	return &trail.ActionSchema{Tenant: tenant, Action: action, Metadata: req.Metadata, Targets: req.Targets,
		CreatedAt: s.now(), CreatedBy: caller.ID}, nil
}

func (s *Server) forgetSchemas(tenant string) {
	if v := s.schemas; v != nil {
		v.Forget(tenant)
	}
}

func schemaTarget(action string) trail.Target { return trail.Target{Type: "action", ID: action} }

// handleListSchemas lists the versions of the schema line that applies to
// the caller's tenant (or ?tenant=) for an action, oldest first.
func (s *Server) handleListSchemas(w http.ResponseWriter, r *http.Request) error {
	owner, line, err := s.schemaLine(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, schemaList{SchemaTenant: owner, Schemas: line})
	return nil
}

// handleGetSchema returns one version of an action's schema line.
func (s *Server) handleGetSchema(w http.ResponseWriter, r *http.Request) error {
	_, line, err := s.schemaLine(r)
	if err != nil {
		return err
	}
	v, err := strconv.Atoi(r.PathValue("version"))
	i := slices.IndexFunc(line, func(sch *trail.ActionSchema) bool { return sch.Version == v })
	if err != nil || i < 0 {
		return trail.Errorf(trail.ENOTFOUND, "action %s has no schema version %s", r.PathValue("action"), r.PathValue("version"))
	}
	writeJSON(w, http.StatusOK, line[i])
	return nil
}

// schemaLine is the schema line of the path's action that applies to the
// caller's tenant (or ?tenant=), and the tenant that owns it.
func (s *Server) schemaLine(r *http.Request) (string, []*trail.ActionSchema, error) {
	if err := trail.CheckAction(r.PathValue("action")); err != nil {
		return "", nil, err
	}
	tenant, err := adminTenant(apiKey(r), query(r).Get("tenant"))
	if err != nil {
		return "", nil, err
	}
	return schema.Line(r.Context(), s.store, tenant, r.PathValue("action"))
}

// handleListActions lists the actions seen and those with schemas, each
// with the versions of the schema line that applies.
func (s *Server) handleListActions(w http.ResponseWriter, r *http.Request) error {
	scope, visible, err := readScope(apiKey(r), query(r).Get("tenant"))
	if err != nil {
		return err
	}
	actions := []trail.ActionInfo{}
	if visible {
		if actions, err = schema.Actions(r.Context(), s.store, s.store, scope); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, actionList{actions})
	return nil
}

// handleGetValidation answers a tenant's validation mode.
func (s *Server) handleGetValidation(w http.ResponseWriter, r *http.Request) error {
	tenant, err := adminTenant(apiKey(r), query(r).Get("tenant"))
	if err != nil {
		return err
	}
	mode, err := s.store.ValidationMode(r.Context(), tenant)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, validationSetting{Tenant: tenant, Mode: mode})
	return nil
}

// handleSetValidation sets a tenant's validation mode; the change is
// recorded, and applies to this node's next ingest at once (to other
// nodes' within schema.CacheTTL).
func (s *Server) handleSetValidation(w http.ResponseWriter, r *http.Request) error {
	var req validationSetting
	if err := readJSON(w, r, 4<<10, &req); err != nil {
		return err
	}
	if !slices.Contains(trail.ValidationModes, req.Mode) {
		return trail.Invalid("mode", "must be "+strings.Join(trail.ValidationModes, ", "))
	}
	tenant, err := adminTenant(apiKey(r), req.Tenant)
	if err != nil {
		return err
	}
	req.Tenant = tenant
	if err := s.record(r, req.Tenant, "schema.validation_changed", map[string]string{"mode": req.Mode}); err != nil {
		return err
	}
	if err := s.store.SetValidationMode(r.Context(), req.Tenant, req.Mode, s.now()); err != nil {
		return err
	}
	s.forgetSchemas(req.Tenant)
	writeJSON(w, http.StatusOK, req)
	return nil
}
