package trail_test

import (
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
)

func TestAlertRuleValidate(t *testing.T) {
	valid := func() *trail.AlertRule {
		return &trail.AlertRule{Name: "r", Condition: trail.AlertCondition{Type: trail.AlertAny},
			Webhook: trail.AlertWebhook{URL: "https://hooks.example.com/x"}}
	}
	r := valid()
	if err := r.Validate(); err != nil || r.Webhook.Format != trail.WebhookJSON {
		t.Fatalf("valid rule: %v (format %q)", err, r.Webhook.Format)
	}
	for _, tc := range []struct {
		field string
		edit  func(r *trail.AlertRule)
	}{
		{"name", func(r *trail.AlertRule) { r.Name = " " }},
		{"filter.actions[0]", func(r *trail.AlertRule) { r.Filter.Actions = []string{"User.Created"} }},
		{"filter.context.ip", func(r *trail.AlertRule) { r.Filter.Context.IP = "10.0.0.0/33" }},
		{"condition.type", func(r *trail.AlertRule) { r.Condition.Type = "sometimes" }},
		{"condition", func(r *trail.AlertRule) { r.Condition.Count = 3 }},
		{"condition.count", func(r *trail.AlertRule) {
			r.Condition = trail.AlertCondition{Type: "threshold", Window: trail.Duration(time.Minute)}
		}},
		{"condition.window", func(r *trail.AlertRule) { r.Condition = trail.AlertCondition{Type: "threshold", Count: 2} }},
		{"condition.group_by", func(r *trail.AlertRule) { r.Condition.GroupBy = "tenant" }},
		{"webhook.url", func(r *trail.AlertRule) { r.Webhook.URL = "javascript:alert(1)" }},
		{"webhook.format", func(r *trail.AlertRule) { r.Webhook.Format = "teams" }},
	} {
		t.Run(tc.field, func(t *testing.T) {
			r := valid()
			tc.edit(r)
			err := r.Validate()
			if trail.ErrorCode(err) != trail.EINVALID || !strings.HasPrefix(trail.ErrorMessage(err), tc.field+":") {
				t.Fatalf("err = %v, want one naming %s", err, tc.field)
			}
		})
	}
}

func TestAlertRuleSees(t *testing.T) {
	e := &trail.Event{Tenant: "acme", Action: "user.login.failure", Actor: trail.Actor{Type: "user", ID: "u1"},
		Targets: []trail.Target{{Type: "team", ID: "t1"}}, Context: trail.Context{IP: "10.1.2.3"}}
	for _, tc := range []struct {
		name string
		rule trail.AlertRule
		want bool
	}{
		{"PrefixAndCIDR", trail.AlertRule{Tenant: "acme", Filter: trail.AlertFilter{Actions: []string{"user.*"}, Context: trail.AlertContextFilter{IP: "10.0.0.0/8"}}}, true},
		{"OtherCIDR", trail.AlertRule{Tenant: "acme", Filter: trail.AlertFilter{Context: trail.AlertContextFilter{IP: "192.168.0.0/16"}}}, false},
		{"OtherTenant", trail.AlertRule{Tenant: "globex"}, false},
		{"PlatformRule", trail.AlertRule{Tenant: ""}, true},
		{"Target", trail.AlertRule{Tenant: "acme", Filter: trail.AlertFilter{TargetType: "team", TargetID: "t1"}}, true},
		{"OtherTarget", trail.AlertRule{Tenant: "acme", Filter: trail.AlertFilter{TargetType: "team", TargetID: "t2"}}, false},
		{"Actor", trail.AlertRule{Tenant: "acme", Filter: trail.AlertFilter{ActorType: "user", ActorID: "u2"}}, false},
		{"Disabled", trail.AlertRule{Tenant: "acme", Disabled: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.rule.Sees(e); got != tc.want {
				t.Fatalf("Sees = %v, want %v", got, tc.want)
			}
		})
	}
	alertEvent := *e
	alertEvent.Actor.Type = trail.ActorAlert
	if (&trail.AlertRule{Tenant: "acme"}).Sees(&alertEvent) {
		t.Fatal("a rule sees an alert event")
	}
}
