package console_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
)

// TestAlertsPage creates a rule from a template, shows its firings and
// deletes it, each change recorded as the API records it; bad input is a
// 400 that names the field and changes nothing.
func TestAlertsPage(t *testing.T) {
	e := newEnv(t)
	c := e.signedIn(t, e.admin)
	_, page := e.get(t, c, "/settings/alerts?template=failed-logins")
	token := csrf(t, page)
	if !strings.Contains(page, `value="login.failure"`) || !strings.Contains(page, `value="10m"`) {
		t.Fatal("the failed sign-ins template does not fill the form")
	}
	form := url.Values{"csrf": {token}, "name": {"Repeated failed sign-ins"}, "actions": {"login.failure"},
		"type": {"threshold"}, "count": {"5"}, "window": {"10m"}, "group_by": {"actor"},
		"webhook_url": {"https://hooks.example.com/trail"}, "webhook_format": {"slack"}, "webhook_secret": {"s3cret-value"}}
	var rule *trail.AlertRule
	t.Run("Create", func(t *testing.T) {
		resp, _ := e.post(t, c, "/settings/alerts", form)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("status %d, want 303", resp.StatusCode)
		}
		rules, _ := e.db.AlertRules(t.Context(), trail.Scope{Tenant: "acme"})
		if len(rules) != 1 {
			t.Fatalf("%d rules, want 1", len(rules))
		}
		rule = rules[0]
		want := trail.AlertCondition{Type: "threshold", Count: 5, Window: trail.Duration(10 * time.Minute), GroupBy: "actor"}
		if rule.Condition != want || rule.Webhook.Secret != "s3cret-value" || rule.Webhook.Format != "slack" || rule.CreatedBy != e.admin.ID {
			t.Fatalf("stored rule %+v", rule)
		}
		rec := e.recorded(t, "acme", "alert_rule.created")
		if len(rec) != 1 || rec[0].Targets[0].ID != rule.ID || strings.Contains(string(rec[0].Metadata), "s3cret") {
			t.Fatalf("alert_rule.created events %+v, want one about the rule without its secret", rec)
		}
		_, list := e.get(t, c, "/settings/alerts")
		if strings.Contains(list, "s3cret-value") || !strings.Contains(list, "5 within 10m0s per actor") {
			t.Fatal("the list shows the secret, or not the rule")
		}
	})
	t.Run("ErrBadInput", func(t *testing.T) {
		for _, tt := range []struct{ key, value, want string }{
			{"name", "", "name: required"},
			{"actions", "Login Failure", "filter.actions[0]: must be an action"},
			{"type", "sometimes", `condition.type: must be "any" or "threshold"`},
			{"count", "many", "condition.count: must be an integer"},
			{"count", "0", "condition.count: must be an integer from 1 to 10000"},
			{"window", "soon", "condition.window: must be a duration"},
			{"window", "30d", "condition.window: must be a duration"},
			{"group_by", "tenant", "condition.group_by"},
			{"ip", "10.0.0.0/33", "filter.context.ip"},
			{"webhook_url", "ftp://x.example", "webhook.url: must be an http:// or https:// URL"},
			{"webhook_url", "http://127.0.0.1:9/x", "webhook.url: address 127.0.0.1 is refused"},
			{"webhook_format", "xml", "webhook.format"},
		} {
			before := e.consoleSnapshot(t)
			bad := url.Values{}
			for k, v := range form {
				bad[k] = v
			}
			bad.Set(tt.key, tt.value)
			resp, body := e.post(t, c, "/settings/alerts", bad)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, html.EscapeString(tt.want)) {
				t.Fatalf("%s=%q: status %d, want 400 with %q", tt.key, tt.value, resp.StatusCode, tt.want)
			}
			if rules, _ := e.db.AlertRules(t.Context(), trail.Scope{Tenant: "acme"}); len(rules) != 1 || e.consoleSnapshot(t) != before {
				t.Fatalf("%s=%q changed something", tt.key, tt.value)
			}
		}
		if status, body := e.get(t, c, "/settings/alerts?template=nope"); status != http.StatusBadRequest || !strings.Contains(body, "template") {
			t.Fatalf("an unknown template: status %d, want 400 naming template", status)
		}
	})
	t.Run("Firings", func(t *testing.T) {
		cursor, err := e.db.StartAlertCursor(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC().Truncate(time.Second)
		f := &trail.AlertFiring{ID: trail.NewID(now), RuleID: rule.ID, Tenant: "acme", GroupKey: "user:u_mallory",
			WindowStart: now.Add(-time.Minute), WindowEnd: now, Count: 5, EventIDs: []string{trail.NewID(now)},
			Subject: &trail.Target{Type: "user", ID: "u_mallory"}, FiredAt: now, AlertEventID: trail.NewID(now),
			NextAttemptAt: now, LastError: "webhook answered 503"}
		if err := e.db.SaveAlertProgress(t.Context(), &trail.AlertProgress{After: cursor, Cursor: cursor, Firings: []*trail.AlertFiring{f}}); err != nil {
			t.Fatal(err)
		}
		status, body := e.get(t, c, "/settings/alerts/"+rule.ID)
		if status != http.StatusOK || !strings.Contains(body, "u_mallory") || !strings.Contains(body, "webhook answered 503") {
			t.Fatalf("status %d, want 200 listing the firing:\n%s", status, body)
		}
	})
	t.Run("Edit", func(t *testing.T) {
		edit := url.Values{}
		for k, v := range form {
			edit[k] = v
		}
		edit.Set("count", "3")
		edit.Set("webhook_secret", "")
		resp, _ := e.post(t, c, "/settings/alerts/"+rule.ID, edit)
		got, _ := e.db.AlertRule(t.Context(), trail.Scope{Tenant: "acme"}, rule.ID)
		if resp.StatusCode != http.StatusSeeOther || got.Condition.Count != 3 || got.Webhook.Secret != "s3cret-value" ||
			!got.CreatedAt.Equal(rule.CreatedAt) {
			t.Fatalf("edit: status %d, rule %+v: want count 3 and the secret kept", resp.StatusCode, got)
		}
		if rec := e.recorded(t, "acme", "alert_rule.updated"); len(rec) != 1 || rec[0].Targets[0].ID != rule.ID {
			t.Fatalf("alert_rule.updated events %+v", rec)
		}
		before := e.consoleSnapshot(t)
		edit.Set("window", "forever")
		resp, body := e.post(t, c, "/settings/alerts/"+rule.ID, edit)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "condition.window: must be a duration") {
			t.Fatalf("a bad edit: status %d, want 400 naming condition.window", resp.StatusCode)
		}
		if again, _ := e.db.AlertRule(t.Context(), trail.Scope{Tenant: "acme"}, rule.ID); again.Condition.Window != got.Condition.Window || e.consoleSnapshot(t) != before {
			t.Fatal("a bad edit changed something")
		}
	})
	t.Run("DisableEnable", func(t *testing.T) {
		for _, tt := range []struct {
			path, action string
			disabled     bool
		}{{"/disable", "alert_rule.disabled", true}, {"/enable", "alert_rule.enabled", false}} {
			resp, _ := e.post(t, c, "/settings/alerts/"+rule.ID+tt.path, url.Values{"csrf": {token}})
			got, _ := e.db.AlertRule(t.Context(), trail.Scope{Tenant: "acme"}, rule.ID)
			if resp.StatusCode != http.StatusSeeOther || got.Disabled != tt.disabled || len(e.recorded(t, "acme", tt.action)) != 1 {
				t.Fatalf("POST %s: status %d, disabled %v, want %v and one %s event", tt.path, resp.StatusCode, got.Disabled, tt.disabled, tt.action)
			}
		}
	})
	t.Run("ErrOtherTenant", func(t *testing.T) {
		g := e.signedIn(t, e.globex)
		_, gp := e.get(t, g, "/settings/alerts")
		if status, _ := e.get(t, g, "/settings/alerts/"+rule.ID); status != http.StatusNotFound {
			t.Fatalf("globex reading acme's rule: status %d, want 404", status)
		}
		for _, path := range []string{"/delete", "/disable", ""} {
			before := e.consoleSnapshot(t)
			f := url.Values{"csrf": {csrf(t, gp)}}
			if path == "" {
				for k, v := range form {
					f[k] = v
				}
				f.Set("csrf", csrf(t, gp))
			}
			resp, _ := e.post(t, g, "/settings/alerts/"+rule.ID+path, f)
			got, err := e.db.AlertRule(t.Context(), trail.Scope{Tenant: "acme"}, rule.ID)
			if resp.StatusCode != http.StatusNotFound || err != nil || got.Disabled || e.consoleSnapshot(t) != before {
				t.Fatalf("globex POST %s on acme's rule: status %d, err %v", path, resp.StatusCode, err)
			}
		}
		if status, _ := e.get(t, c, "/settings/alerts/ar_%00x"); status != http.StatusNotFound {
			t.Fatalf("a bad rule id: status %d, want 404", status)
		}
	})
	t.Run("ErrMember", func(t *testing.T) {
		m := e.signedIn(t, e.member)
		if status, _ := e.get(t, m, "/settings/alerts"); status != http.StatusForbidden {
			t.Fatalf("a member: status %d, want 403", status)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		resp, _ := e.post(t, c, "/settings/alerts/"+rule.ID+"/delete", url.Values{"csrf": {token}})
		rules, _ := e.db.AlertRules(t.Context(), trail.Scope{Tenant: "acme"})
		if resp.StatusCode != http.StatusSeeOther || len(rules) != 0 {
			t.Fatalf("delete: status %d, %d rules left", resp.StatusCode, len(rules))
		}
		if rec := e.recorded(t, "acme", "alert_rule.deleted"); len(rec) != 1 || rec[0].Targets[0].ID != rule.ID {
			t.Fatalf("alert_rule.deleted events %+v", rec)
		}
	})
}
