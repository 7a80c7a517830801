package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/trailhq/trail"
)

// The alert routes create, list and delete alert rules and show their
// firings. The rules run in the alert evaluator (package alert).

// maxRuleRequestBytes bounds the body of POST /v1/alerts/rules.
const maxRuleRequestBytes = 64 << 10

// ruleRequest is the body of POST /v1/alerts/rules.
type ruleRequest struct {
	Tenant    string             `json:"tenant"`
	Name      string             `json:"name"`
	Filter    trail.AlertFilter  `json:"filter"`
	Condition conditionRequest   `json:"condition"`
	Webhook   trail.AlertWebhook `json:"webhook"`
}

// conditionRequest is trail.AlertCondition with the window as sent, so that
// a bad duration is reported as condition.window.
type conditionRequest struct {
	Type    string `json:"type"`
	Count   int    `json:"count"`
	Window  string `json:"window"`
	GroupBy string `json:"group_by"`
}

type ruleList struct {
	Rules []*trail.AlertRule `json:"rules"`
}

type firingList struct {
	Firings []*trail.AlertFiring `json:"firings"`
}

// handleCreateRule creates an alert rule; it watches events received from
// now on. A rule whose creation is not recorded is deleted again.
func (s *Server) handleCreateRule(w http.ResponseWriter, r *http.Request) error {
	as := s.store
	var req ruleRequest
	if err := readJSON(w, r, maxRuleRequestBytes, &req); err != nil {
		return err
	}
	rule, err := s.newRule(apiKey(r), &req)
	if err != nil {
		return err
	}
	if err := as.CreateAlertRule(r.Context(), rule); err != nil {
		return err
	}
	meta := map[string]any{"name": rule.Name, "filter": rule.Filter, "condition": rule.Condition, "webhook_format": rule.Webhook.Format}
	if err := s.record(r, rule.Tenant, "alert_rule.created", meta, ruleTarget(rule)); err != nil {
		if derr := as.DeleteAlertRule(context.WithoutCancel(r.Context()), trail.Scope{All: true}, rule.ID); derr != nil {
			s.logger.Error("delete unrecorded alert rule", "rule", rule.ID, "err", derr)
		}
		return fmt.Errorf("record alert rule creation: %w", err)
	}
	writeJSON(w, http.StatusCreated, rule.Redacted())
	return nil
}

func (s *Server) newRule(caller *trail.APIKey, req *ruleRequest) (*trail.AlertRule, error) {
	tenant, err := adminTenant(caller, req.Tenant)
	if err != nil {
		return nil, err
	}
	cond := trail.AlertCondition{Type: req.Condition.Type, Count: req.Condition.Count, GroupBy: req.Condition.GroupBy}
	if req.Condition.Window != "" {
		d, err := time.ParseDuration(req.Condition.Window)
		if err != nil {
			return nil, trail.Invalid("condition.window", "must be a duration like 30s, 10m or 1h")
		}
		cond.Window = trail.Duration(d)
	}
	now := trail.NormalTime(s.now())
	rule := &trail.AlertRule{ID: "ar_" + trail.NewID(now), Tenant: tenant, Name: req.Name, Filter: req.Filter,
		Condition: cond, Webhook: req.Webhook, CreatedAt: now, CreatedBy: caller.ID}
	if err := rule.Validate(); err != nil {
		return nil, err
	}
	if tenant != trail.SystemTenant {
		// A tenant's webhook must not reach Trail's own network.
		return rule, s.guard.CheckURL("webhook.url", rule.Webhook.URL)
	}
	return rule, nil
}

func ruleTarget(r *trail.AlertRule) trail.Target {
	return trail.Target{Type: "alert_rule", ID: r.ID, Name: r.Name}
}

// handleListRules lists the rules of the caller's tenant, or every rule
// for a platform key without ?tenant=; webhook secrets are redacted.
func (s *Server) handleListRules(w http.ResponseWriter, r *http.Request) error {
	scope, err := settingsScope(apiKey(r), query(r).Get("tenant"))
	if err != nil {
		return err
	}
	rules, err := s.store.AlertRules(r.Context(), scope)
	if err != nil {
		return err
	}
	for i, rule := range rules {
		rules[i] = rule.Redacted()
	}
	writeJSON(w, http.StatusOK, ruleList{rules})
	return nil
}

// handleGetRule returns one rule, redacted.
func (s *Server) handleGetRule(w http.ResponseWriter, r *http.Request) error {
	rule, _, err := s.managedRule(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rule.Redacted())
	return nil
}

// handleDeleteRule deletes a rule with its windows and undelivered
// firings. The deletion is recorded before it is made.
func (s *Server) handleDeleteRule(w http.ResponseWriter, r *http.Request) error {
	rule, as, err := s.managedRule(r)
	if err != nil {
		return err
	}
	if err := s.record(r, rule.Tenant, "alert_rule.deleted", map[string]string{"name": rule.Name}, ruleTarget(rule)); err != nil {
		return err
	}
	if err := as.DeleteAlertRule(r.Context(), trail.Scope{All: true}, rule.ID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rule.Redacted())
	return nil
}

// ruleSwitch is the body of PATCH /v1/alerts/rules/{id}.
type ruleSwitch struct {
	Disabled *bool `json:"disabled"`
}

// handlePatchRule disables or enables a rule, as the console's switch
// does; the change is recorded (alert_rule.disabled or .enabled) before it
// is made.
func (s *Server) handlePatchRule(w http.ResponseWriter, r *http.Request) error {
	rule, as, err := s.managedRule(r)
	if err != nil {
		return err
	}
	var req ruleSwitch
	if err := readJSON(w, r, 4<<10, &req); err != nil {
		return err
	}
	if req.Disabled == nil {
		return trail.Invalid("disabled", "required: true or false")
	}
	rule.Disabled = *req.Disabled
	action := "alert_rule.enabled"
	if rule.Disabled {
		action = "alert_rule.disabled"
	}
	if err := s.record(r, rule.Tenant, action, map[string]string{"name": rule.Name}, ruleTarget(rule)); err != nil {
		return err
	}
	if err := as.UpdateAlertRule(r.Context(), trail.Scope{All: true}, rule); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rule.Redacted())
	return nil
}

// handleListFirings lists a rule's newest firings and their delivery.
func (s *Server) handleListFirings(w http.ResponseWriter, r *http.Request) error {
	rule, as, err := s.managedRule(r)
	if err != nil {
		return err
	}
	firings, err := as.AlertFirings(r.Context(), rule.ID, trail.DefaultLimit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, firingList{firings})
	return nil
}

// managedRule returns the rule of the path if the caller manages it;
// another tenant's rule is "not found".
func (s *Server) managedRule(r *http.Request) (*trail.AlertRule, trail.AlertStore, error) {
	as := s.store
	id := r.PathValue("id")
	if !validPathID(id) {
		return nil, nil, trail.Errorf(trail.ENOTFOUND, "alert rule not found")
	}
	caller := apiKey(r)
	rule, err := as.AlertRule(r.Context(), trail.Scope{Tenant: caller.Tenant, All: caller.Platform}, id)
	return rule, as, err
}

// validPathID reports whether id could be the id of a rule or hold: up to
// 64 ASCII letters, digits, '_' and '-'. Anything else cannot exist, and
// some bytes would make a database reject the lookup itself.
func validPathID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(isLowerAlnum(c) || 'A' <= c && c <= 'Z' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
