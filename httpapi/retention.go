package httpapi

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/retention"
)

// The retention routes set each tenant's retention, run the retention job
// now, and set, list and lift legal holds. Every change is recorded.

type retentionRequest struct {
	Tenant string `json:"tenant"`
	Days   int    `json:"days"`
}

// holdRequest is the body of POST /v1/holds.
type holdRequest struct {
	Tenant     string `json:"tenant"`
	Kind       string `json:"kind"`
	TargetType string `json:"target_type"`
	TargetID   string `json:"target_id"`
	Since      string `json:"since"`
	Until      string `json:"until"`
	Reason     string `json:"reason"`
}

type holdList struct {
	Holds []*trail.Hold `json:"holds"`
}

// handleGetRetention answers a tenant's retention policy.
func (s *Server) handleGetRetention(w http.ResponseWriter, r *http.Request) error {
	tenant, err := logTenant(apiKey(r), query(r).Get("tenant"))
	if err != nil {
		return err
	}
	p, err := s.store.RetentionPolicy(r.Context(), tenant)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// handleSetRetention sets a tenant's retention; the change is recorded
// before it is made.
func (s *Server) handleSetRetention(w http.ResponseWriter, r *http.Request) error {
	var req retentionRequest
	if err := readJSON(w, r, 4<<10, &req); err != nil {
		return err
	}
	if err := trail.CheckRetentionDays(req.Days); err != nil {
		return err
	}
	tenant, err := logTenant(apiKey(r), req.Tenant)
	if err != nil {
		return err
	}
	p := &trail.RetentionPolicy{Tenant: tenant, Days: req.Days, UpdatedAt: trail.NormalTime(s.now())}
	if err := s.record(r, p.Tenant, "retention.changed", map[string]int{"days": p.Days}); err != nil {
		return err
	}
	if err := s.store.SetRetentionPolicy(r.Context(), p); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// handleRunRetention runs the retention job now: over the caller's tenant,
// or over every log for a platform key without ?tenant=.
func (s *Server) handleRunRetention(w http.ResponseWriter, r *http.Request) error {
	tenant, err := logTenant(apiKey(r), query(r).Get("tenant"))
	if err != nil {
		return err
	}
	if s.retention == nil {
		return trail.Errorf(trail.EUNAVAILABLE, "retention is not configured on this server")
	}
	only := &tenant
	if apiKey(r).Platform && query(r).Get("tenant") == "" {
		only = nil
	}
	rep, err := s.retention.RunOnce(r.Context(), only, apiKey(r))
	if err != nil {
		return fmt.Errorf("run retention: %w", err)
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// handleCreateHold sets a legal hold; it is recorded before it is stored,
// so that a hold is never in force without its record.
func (s *Server) handleCreateHold(w http.ResponseWriter, r *http.Request) error {
	var req holdRequest
	if err := readJSON(w, r, 16<<10, &req); err != nil {
		return err
	}
	h, err := s.newHold(apiKey(r), &req)
	if err != nil {
		return err
	}
	if err := s.record(r, h.Tenant, "hold.created", h, holdTarget(h)); err != nil {
		return err
	}
	if err := s.store.CreateHold(r.Context(), h); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, h)
	return nil
}

func (s *Server) newHold(caller *trail.APIKey, req *holdRequest) (*trail.Hold, error) {
	tenant, err := logTenant(caller, req.Tenant)
	if err != nil {
		return nil, err
	}
	return trail.NewHold(tenant, trail.HoldRequest{Kind: req.Kind, TargetType: req.TargetType, TargetID: req.TargetID,
		Since: req.Since, Until: req.Until, Reason: req.Reason}, caller.ID, s.now())
}

func holdTarget(h *trail.Hold) trail.Target { return trail.Target{Type: "legal_hold", ID: h.ID} }

// handleListHolds lists the holds of the caller's tenant, or every hold
// for a platform key without ?tenant=.
func (s *Server) handleListHolds(w http.ResponseWriter, r *http.Request) error {
	scope, err := settingsScope(apiKey(r), query(r).Get("tenant"))
	if err != nil {
		return err
	}
	holds, err := s.store.Holds(r.Context(), scope)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, holdList{holds})
	return nil
}

// handleDeleteHold lifts a hold; the lifting is recorded before it is
// made, so a failure in between leaves a duplicate record on retry, never
// a missing one.
func (s *Server) handleDeleteHold(w http.ResponseWriter, r *http.Request) error {
	scope := apiKey(r).ReadScope("")
	holds, err := s.store.Holds(r.Context(), scope)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(holds, func(h *trail.Hold) bool { return h.ID == r.PathValue("id") })
	if i < 0 {
		return trail.Errorf(trail.ENOTFOUND, "hold not found")
	}
	h := holds[i]
	if err := s.record(r, h.Tenant, "hold.released", h, holdTarget(h)); err != nil {
		return err
	}
	if _, err := s.store.DeleteHold(r.Context(), scope, h.ID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h)
	return nil
}

// logTenant is whose log a retention or hold request manages: as
// adminTenant, and the operator log, which only a platform key may name.
func logTenant(caller *trail.APIKey, requested string) (string, error) {
	if caller.Platform && requested == trail.OperatorTenant {
		return requested, nil
	}
	return adminTenant(caller, requested)
}

// settingsScope is the scope of a settings listing: a tenant key's own
// tenant; for a platform key, the tenant asked for or every tenant.
func settingsScope(caller *trail.APIKey, requested string) (trail.Scope, error) {
	tenant, err := logTenant(caller, requested)
	if err != nil {
		return trail.Scope{}, err
	}
	return trail.Scope{Tenant: tenant, All: caller.Platform && requested == ""}, nil
}

// newRetention returns cfg.Retention, or a runner over the store and
// writer with default settings.
func newRetention(cfg Config) *retention.Runner {
	if cfg.Retention != nil {
		return cfg.Retention
	}
	return retention.New(retention.Config{Store: cfg.Store, Writer: cfg.Writer, Logger: cfg.Logger, Now: cfg.Now})
}
