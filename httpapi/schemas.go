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
func (s *Server) handleRegisterSchema(w http.ResponseWriter, r *http.Request) {
	ss := s.store
	action := r.PathValue("action")
	var body []byte
	err := checkAction(action)
	if err == nil {
		body, err = readBody(w, r, trail.MaxSchemaBytes)
	}
	var req registerSchemaRequest
	if err == nil {
		err = decodeJSON(body, &req)
	}
	var sch *trail.ActionSchema
	if err == nil {
		sch, err = s.newSchema(apiKey(r), action, &req)
	}
	if err == nil {
		err = schema.Register(r.Context(), ss, sch)
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.forgetSchemas(sch.Tenant)
	meta := map[string]any{"action": sch.Action, "version": sch.Version}
	if err := s.record(r, sch.Tenant, "schema.registered", meta, schemaTarget(sch.Action)); err != nil {
		s.error(w, r, fmt.Errorf("record schema registration: %w", err))
		return
	}
	writeJSON(w, http.StatusCreated, sch)
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
func (s *Server) handleListSchemas(w http.ResponseWriter, r *http.Request) {
	owner, line, ok := s.schemaLine(w, r)
	if ok {
		writeJSON(w, http.StatusOK, schemaList{SchemaTenant: owner, Schemas: line})
	}
}

// handleGetSchema returns one version of an action's schema line.
func (s *Server) handleGetSchema(w http.ResponseWriter, r *http.Request) {
	_, line, ok := s.schemaLine(w, r)
	if !ok {
		return
	}
	v, err := strconv.Atoi(r.PathValue("version"))
	i := slices.IndexFunc(line, func(sch *trail.ActionSchema) bool { return sch.Version == v })
	if err != nil || i < 0 {
		s.error(w, r, trail.Errorf(trail.ENOTFOUND, "action %s has no schema version %s", r.PathValue("action"), r.PathValue("version")))
		return
	}
	writeJSON(w, http.StatusOK, line[i])
}

func (s *Server) schemaLine(w http.ResponseWriter, r *http.Request) (string, []*trail.ActionSchema, bool) {
	ss := s.store
	err := checkAction(r.PathValue("action"))
	var tenant string
	if err == nil {
		tenant, err = adminTenant(apiKey(r), query(r).Get("tenant"))
	}
	var owner string
	var line []*trail.ActionSchema
	if err == nil {
		owner, line, err = schema.Line(r.Context(), ss, tenant, r.PathValue("action"))
	}
	if err != nil {
		s.error(w, r, err)
		return "", nil, false
	}
	return owner, line, true
}

// handleListActions lists the actions seen and those with schemas, each
// with the versions of the schema line that applies.
func (s *Server) handleListActions(w http.ResponseWriter, r *http.Request) {
	ss := s.store
	scope, visible, err := readScope(apiKey(r), query(r).Get("tenant"))
	actions := []trail.ActionInfo{}
	if err == nil && visible {
		actions, err = schema.Actions(r.Context(), s.store, ss, scope)
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, actionList{actions})
}

// handleGetValidation answers a tenant's validation mode.
func (s *Server) handleGetValidation(w http.ResponseWriter, r *http.Request) {
	ss := s.store
	var mode string
	tenant, err := adminTenant(apiKey(r), query(r).Get("tenant"))
	if err == nil {
		mode, err = ss.ValidationMode(r.Context(), tenant)
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, validationSetting{Tenant: tenant, Mode: mode})
}

// handleSetValidation sets a tenant's validation mode; the change is
// recorded, and applies to this node's next ingest at once (to other
// nodes' within schema.CacheTTL).
func (s *Server) handleSetValidation(w http.ResponseWriter, r *http.Request) {
	ss := s.store
	body, err := readBody(w, r, 4<<10)
	var req validationSetting
	if err == nil {
		err = decodeJSON(body, &req)
	}
	if err == nil && !slices.Contains(trail.ValidationModes, req.Mode) {
		err = trail.Invalid("mode", "must be "+strings.Join(trail.ValidationModes, ", "))
	}
	if err == nil {
		req.Tenant, err = adminTenant(apiKey(r), req.Tenant)
	}
	if err == nil {
		err = s.record(r, req.Tenant, "schema.validation_changed", map[string]string{"mode": req.Mode})
	}
	if err == nil {
		err = ss.SetValidationMode(r.Context(), req.Tenant, req.Mode, s.now())
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.forgetSchemas(req.Tenant)
	writeJSON(w, http.StatusOK, req)
}

// checkAction rejects a path segment that cannot be an action.
func checkAction(a string) error {
	ok := a != "" && len(a) <= trail.MaxActionLen
	for _, word := range strings.Split(a, ".") {
		ok = ok && word != "" && 'a' <= word[0] && word[0] <= 'z' &&
			strings.Trim(word, "abcdefghijklmnopqrstuvwxyz0123456789_") == ""
	}
	if !ok {
		return trail.Invalid("action", "must be lower-case words joined by dots, like user.created")
	}
	return nil
}
