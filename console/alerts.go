package console

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/forward"
)

// alertsView is the data of the alert rules page.
type alertsView struct {
	Rules     []*trail.AlertRule
	Templates []ruleTemplate
	// Form is the create form: a template's values, or the values sent
	// with a problem.
	Form   ruleForm
	Error  string
	Notice string
}

// ruleForm is the create form's fields as text.
type ruleForm struct {
	Template, Name, Actions, ActorType, ActorID, TargetType, TargetID, IP string
	Type, Count, Window, GroupBy, URL, Format                             string
	// Secret is set when the rule being edited has a signing secret.
	Secret bool
}

// formOf is rule's settings as the form shows them.
func formOf(r *trail.AlertRule) ruleForm {
	f := ruleForm{Name: r.Name, Actions: strings.Join(r.Filter.Actions, ", "), ActorType: r.Filter.ActorType,
		ActorID: r.Filter.ActorID, TargetType: r.Filter.TargetType, TargetID: r.Filter.TargetID, IP: r.Filter.Context.IP,
		Type: r.Condition.Type, GroupBy: r.Condition.GroupBy, URL: r.Webhook.URL, Format: r.Webhook.Format,
		Secret: r.Webhook.Secret != ""}
	if r.Condition.Type == trail.AlertThreshold {
		f.Count, f.Window = strconv.Itoa(r.Condition.Count), r.Condition.Window.Std().String()
	}
	return f
}

// ruleTemplate is a ready-made rule for a case people ask for first.
type ruleTemplate struct {
	ID, Title, Help string
	Form            ruleForm
}

// ruleTemplates are offered above the create form; each only fills it in.
var ruleTemplates = []ruleTemplate{
	{"failed-logins", "Repeated failed sign-ins", "5 login.failure events of one actor within 10 minutes.",
		ruleForm{Name: "Repeated failed sign-ins", Actions: "login.failure", Type: trail.AlertThreshold, Count: "5", Window: "10m", GroupBy: trail.GroupByActor}},
	{"key-created", "API key created", "Every api_key.created event: a new tenant, admin or platform key.",
		ruleForm{Name: "API key created", Actions: "api_key.created", Type: trail.AlertAny}},
	{"export-spike", "Export spike", "10 exports within an hour, from anyone.",
		ruleForm{Name: "Export spike", Actions: "export.downloaded", Type: trail.AlertThreshold, Count: "10", Window: "1h"}},
	{"forwarder-changes", "Forwarder changed or replayed", "Every forwarder created, changed or deleted, and every dead-letter replay.",
		ruleForm{Name: "Forwarder changes", Actions: "forwarder.*", Type: trail.AlertAny}},
}

var alertNotices = map[string]string{
	"created": "The alert rule was created. It watches events received from now on.",
	"deleted": "The alert rule was deleted.",
}

func (s *Server) handleAlerts(w http.ResponseWriter, r *http.Request, v *viewer) error {
	av := &alertsView{Notice: alertNotices[query(r).Get("notice")], Form: ruleForm{Type: trail.AlertAny}}
	if id := query(r).Get("template"); id != "" {
		t := findTemplate(id)
		if t == nil {
			return trail.Invalid("template", "no such alert rule template")
		}
		av.Form = t.Form
		av.Form.Template = id
	}
	return s.renderAlerts(w, r, v, http.StatusOK, av)
}

func findTemplate(id string) *ruleTemplate {
	for i := range ruleTemplates {
		if ruleTemplates[i].ID == id {
			return &ruleTemplates[i]
		}
	}
	return nil
}

func (s *Server) renderAlerts(w http.ResponseWriter, r *http.Request, v *viewer, status int, av *alertsView) error {
	rules, err := s.store.AlertRules(r.Context(), trail.Scope{Tenant: v.user.Tenant})
	if err != nil {
		return err
	}
	for _, rule := range rules {
		av.Rules = append(av.Rules, rule.Redacted())
	}
	av.Templates = ruleTemplates
	s.render(w, status, "alerts", newView(v, "Alert rules", "settings", av))
	return nil
}

// handleCreateRule creates an alert rule of the tenant. A rule whose
// creation is not recorded is deleted again, as through the API.
func (s *Server) handleCreateRule(w http.ResponseWriter, r *http.Request, v *viewer) error {
	f := readRuleForm(r)
	rule, err := s.newRule(v, f, r.PostFormValue("webhook_secret"))
	if err != nil {
		return s.renderAlerts(w, r, v, http.StatusBadRequest, &alertsView{Form: f, Error: trail.ErrorMessage(err)})
	}
	if err := s.store.CreateAlertRule(r.Context(), rule); err != nil {
		return err
	}
	meta := map[string]any{"name": rule.Name, "filter": rule.Filter, "condition": rule.Condition, "webhook_format": rule.Webhook.Format}
	if err := s.audit(r.Context(), rule.Tenant, "alert_rule.created", v.user.Actor(), s.clientContext(r), consoleMeta(meta),
		ruleTarget(rule)); err != nil {
		s.store.DeleteAlertRule(context.WithoutCancel(r.Context()), trail.Scope{Tenant: rule.Tenant}, rule.ID)
		return err
	}
	http.Redirect(w, r, "/settings/alerts?notice=created", http.StatusSeeOther)
	return nil
}

func readRuleForm(r *http.Request) ruleForm {
	val := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	return ruleForm{Name: val("name"), Actions: val("actions"), ActorType: val("actor_type"), ActorID: val("actor_id"),
		TargetType: val("target_type"), TargetID: val("target_id"), IP: val("ip"), Type: val("type"),
		Count: val("count"), Window: val("window"), GroupBy: val("group_by"), URL: val("webhook_url"), Format: val("webhook_format")}
}

// newRule checks the form as the API checks its body: the rule's own
// rules, and a webhook that must not reach Trail's own network.
func (s *Server) newRule(v *viewer, f ruleForm, secret string) (*trail.AlertRule, error) {
	cond := trail.AlertCondition{Type: f.Type, GroupBy: f.GroupBy}
	if f.Type == trail.AlertThreshold {
		n, err := strconv.Atoi(f.Count)
		if err != nil {
			return nil, trail.Invalid("condition.count", "must be an integer from 1 to "+strconv.Itoa(trail.MaxAlertCount))
		}
		d, err := time.ParseDuration(f.Window)
		if err != nil {
			return nil, trail.Invalid("condition.window", "must be a duration like 30s, 10m or 1h")
		}
		cond.Count, cond.Window = n, trail.Duration(d)
	}
	now := trail.NormalTime(s.now())
	rule := &trail.AlertRule{ID: "ar_" + trail.NewID(now), Tenant: v.user.Tenant, Name: f.Name,
		Filter: trail.AlertFilter{Actions: splitActions(f.Actions), ActorType: f.ActorType, ActorID: f.ActorID,
			TargetType: f.TargetType, TargetID: f.TargetID, Context: trail.AlertContextFilter{IP: f.IP}},
		Condition: cond, Webhook: trail.AlertWebhook{URL: f.URL, Format: f.Format, Secret: secret},
		CreatedAt: now, CreatedBy: v.user.ID}
	if err := rule.Validate(); err != nil {
		return nil, err
	}
	return rule, forward.NewGuard(s.cfg.AllowNetworks).CheckURL("webhook.url", rule.Webhook.URL)
}

func ruleTarget(r *trail.AlertRule) trail.Target {
	return trail.Target{Type: "alert_rule", ID: r.ID, Name: r.Name}
}

// alertView is the data of one rule's page: the rule, its firings and
// the edit form.
type alertView struct {
	Rule    *trail.AlertRule
	Firings []*trail.AlertFiring
	Form    ruleForm
	Error   string
	Notice  string
}

var ruleNotices = map[string]string{
	"updated":  "The alert rule was saved. Its counts start again under the new settings.",
	"disabled": "The alert rule is disabled: it counts nothing and does not fire.",
	"enabled":  "The alert rule is enabled again.",
}

// handleAlert shows one rule of the tenant with its newest firings.
func (s *Server) handleAlert(w http.ResponseWriter, r *http.Request, v *viewer) error {
	rule, err := s.tenantRule(r, v)
	if err != nil {
		return err
	}
	return s.renderAlert(w, r, v, http.StatusOK, rule, &alertView{Form: formOf(rule), Notice: ruleNotices[query(r).Get("notice")]})
}

func (s *Server) renderAlert(w http.ResponseWriter, r *http.Request, v *viewer, status int, rule *trail.AlertRule, av *alertView) error {
	var err error
	if av.Firings, err = s.store.AlertFirings(r.Context(), rule.ID, trail.DefaultLimit); err != nil {
		return err
	}
	av.Rule = rule.Redacted()
	s.render(w, status, "alert", newView(v, "Alert rule "+rule.Name, "settings", av))
	return nil
}

// handleUpdateRule changes one rule of the tenant, checked as at creation;
// an empty secret keeps the rule's. The change is recorded first.
func (s *Server) handleUpdateRule(w http.ResponseWriter, r *http.Request, v *viewer) error {
	old, err := s.tenantRule(r, v)
	if err != nil {
		return err
	}
	f, secret := readRuleForm(r), r.PostFormValue("webhook_secret")
	if secret == "" {
		secret = old.Webhook.Secret
	}
	rule, err := s.newRule(v, f, secret)
	if err != nil {
		f.Secret = old.Webhook.Secret != ""
		return s.renderAlert(w, r, v, http.StatusBadRequest, old, &alertView{Form: f, Error: trail.ErrorMessage(err)})
	}
	rule.ID, rule.CreatedAt, rule.CreatedBy, rule.Disabled = old.ID, old.CreatedAt, old.CreatedBy, old.Disabled
	meta := map[string]any{"name": rule.Name, "filter": rule.Filter, "condition": rule.Condition, "webhook_format": rule.Webhook.Format}
	return s.changeRule(w, r, v, rule, "alert_rule.updated", meta, "updated")
}

// handleSwitchRule disables or enables one rule of the tenant.
func (s *Server) handleSwitchRule(disabled bool) userHandler {
	action, notice := "alert_rule.enabled", "enabled"
	if disabled {
		action, notice = "alert_rule.disabled", "disabled"
	}
	return func(w http.ResponseWriter, r *http.Request, v *viewer) error {
		rule, err := s.tenantRule(r, v)
		if err != nil {
			return err
		}
		rule.Disabled = disabled
		return s.changeRule(w, r, v, rule, action, map[string]string{"name": rule.Name}, notice)
	}
}

// changeRule records action about rule, then stores rule.
func (s *Server) changeRule(w http.ResponseWriter, r *http.Request, v *viewer, rule *trail.AlertRule, action string, meta any, notice string) error {
	if err := s.audit(r.Context(), rule.Tenant, action, v.user.Actor(), s.clientContext(r), consoleMeta(meta),
		ruleTarget(rule)); err != nil {
		return err
	}
	if err := s.store.UpdateAlertRule(r.Context(), trail.Scope{Tenant: rule.Tenant}, rule); err != nil {
		return err
	}
	http.Redirect(w, r, "/settings/alerts/"+rule.ID+"?notice="+notice, http.StatusSeeOther)
	return nil
}

// handleDeleteRule deletes one rule of the tenant, recorded first.
func (s *Server) handleDeleteRule(w http.ResponseWriter, r *http.Request, v *viewer) error {
	rule, err := s.tenantRule(r, v)
	if err != nil {
		return err
	}
	if err := s.audit(r.Context(), rule.Tenant, "alert_rule.deleted", v.user.Actor(), s.clientContext(r),
		consoleMeta(map[string]string{"name": rule.Name}), ruleTarget(rule)); err != nil {
		return err
	}
	if err := s.store.DeleteAlertRule(r.Context(), trail.Scope{Tenant: rule.Tenant}, rule.ID); err != nil {
		return err
	}
	http.Redirect(w, r, "/settings/alerts?notice=deleted", http.StatusSeeOther)
	return nil
}

// tenantRule is the rule of the path if it is the tenant's; any other is
// "not found".
func (s *Server) tenantRule(r *http.Request, v *viewer) (*trail.AlertRule, error) {
	id := r.PathValue("id")
	if !validRuleID(id) {
		return nil, trail.Errorf(trail.ENOTFOUND, "no alert rule %q in %s", id, v.user.Tenant)
	}
	return s.store.AlertRule(r.Context(), trail.Scope{Tenant: v.user.Tenant}, id)
}

// validRuleID reports whether id could name a rule: "ar_" and a UUID's
// letters, digits and dashes, which every store can look up.
func validRuleID(id string) bool {
	rest, ok := strings.CutPrefix(id, "ar_")
	return ok && len(id) <= 64 && rest != "" && strings.Trim(rest, "0123456789abcdef-") == ""
}
