package console_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/trailhq/trail"
	"github.com/trailhq/trail/schema"
)

// TestBrowserSettingsPages drives the Streams, Alert rules, Retention and
// Schemas pages in Chromium as an admin, through every control, and saves
// a screenshot of each (to docs/ with -update).
func TestBrowserSettingsPages(t *testing.T) {
	e := newEnv(t)
	e.seed(t, 20)
	sch := &trail.ActionSchema{Tenant: "acme", Action: "document.shared", CreatedAt: time.Now(),
		Metadata: json.RawMessage(`{"type":"object","required":["permission"],"properties":{"permission":{"enum":["view","edit"]}}}`)}
	if err := schema.Register(t.Context(), e.db, sch); err != nil {
		t.Fatal(err)
	}
	dir := outputDir(t)
	admin := tab(t)
	signIn(t, admin, e.srv.URL, e.admin, password)
	notice := func() string { return eval[string](t, admin, `document.querySelector(".notice").textContent`) }
	screenshot := func(name string) {
		path := shoot(t, admin, dir, name)
		if *update {
			b, _ := os.ReadFile(path)
			if err := os.WriteFile(filepath.Join("..", "docs", name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}

	t.Run("Streams", func(t *testing.T) {
		run(t, admin, chromedp.Navigate(e.srv.URL+"/settings"), follow(`.subnav a[href="/settings/streams"]`),
			chromedp.SetValue(chromedp.ID("f-kind"), "splunk"),
			chromedp.SendKeys(chromedp.ID("f-name"), "splunk"),
			chromedp.SendKeys(chromedp.ID("f-uri"), "https://splunk.example.com:8088/services/collector/event"),
			chromedp.SendKeys(chromedp.ID("f-token"), "hec-token"),
			chromedp.SendKeys(chromedp.ID("f-splunk-index"), "audit"),
			chromedp.SendKeys(chromedp.ID("f-splunk-sourcetype"), "trail:audit"),
			follow(`form[action="/settings/forwarders"] button[type=submit]`))
		if !strings.Contains(notice(), "splunk forwarder splunk was created") {
			t.Fatalf("notice %q", notice())
		}
		if f, err := e.db.Forwarder(t.Context(), "acme", "splunk"); err != nil || f.Splunk.Index != "audit" || f.Token != "hec-token" {
			t.Fatalf("stored forwarder %+v, %v", f, err)
		}
		run(t, admin, chromedp.SetValue(chromedp.ID("f-kind"), "syslog"),
			chromedp.SendKeys(chromedp.ID("f-name"), "syslog"),
			chromedp.SendKeys(chromedp.ID("f-uri"), "tcp://syslog.example.com:514"),
			chromedp.SendKeys(chromedp.ID("f-syslog-app"), "my app"),
			follow(`form[action="/settings/forwarders"] button[type=submit]`))
		if msg := eval[string](t, admin, `document.getElementById("streams-error").textContent`); !strings.Contains(msg, "syslog.app_name") {
			t.Fatalf("error %q, want one naming syslog.app_name", msg)
		}
		if got := eval[string](t, admin, `document.getElementById("f-kind").value`); got != "syslog" {
			t.Fatalf("the form came back with kind %q, want syslog", got)
		}
		run(t, admin, chromedp.Navigate(e.srv.URL+"/settings/streams"))
		screenshot("settings-streams.png")
	})
	t.Run("Alerts", func(t *testing.T) {
		run(t, admin, chromedp.Navigate(e.srv.URL+"/settings/streams"), follow(`.subnav a[href="/settings/alerts"]`),
			follow(`a[href="/settings/alerts?template=failed-logins#new-rule"]`))
		if got := eval[string](t, admin, `document.getElementById("a-actions").value`); got != "login.failure" {
			t.Fatalf("the template filled actions with %q", got)
		}
		run(t, admin, chromedp.SendKeys(chromedp.ID("a-url"), "https://hooks.example.com/alerts"),
			chromedp.SetValue(chromedp.ID("a-format"), "slack"),
			follow(`form[action="/settings/alerts"] button[type=submit]`))
		if !strings.Contains(notice(), "alert rule was created") {
			t.Fatalf("notice %q", notice())
		}
		screenshot("settings-alerts.png")
		run(t, admin, follow(`a[aria-label="Firings and settings of Repeated failed sign-ins"]`))
		if text := eval[string](t, admin, `document.querySelector("main").innerText`); !strings.Contains(text, "5 events within 10m0s, counted per actor") ||
			!strings.Contains(text, "has not fired yet") {
			t.Fatalf("rule page:\n%s", text)
		}
		run(t, admin, follow("#rule-disable"))
		if !strings.Contains(notice(), "disabled") || eval[string](t, admin, `document.querySelector("#h-rule .badge").textContent`) != "disabled" {
			t.Fatalf("after disable: notice %q", notice())
		}
		run(t, admin, chromedp.SetValue(chromedp.ID("a-count"), "8"), follow(`#edit-rule button[type=submit]`))
		if rules, _ := e.db.AlertRules(t.Context(), trail.Scope{Tenant: "acme"}); len(rules) != 1 || rules[0].Condition.Count != 8 || !rules[0].Disabled {
			t.Fatalf("after the edit: rules %+v, want count 8, still disabled", rules)
		}
		screenshot("settings-alert-rule.png")
		run(t, admin, follow("#rule-enable"))
		if !strings.Contains(notice(), "enabled again") {
			t.Fatalf("after enable: notice %q", notice())
		}
		run(t, admin, chromedp.Navigate(e.srv.URL+"/settings/alerts"), follow(`button[aria-label="Delete rule Repeated failed sign-ins"]`))
		if rules, _ := e.db.AlertRules(t.Context(), trail.Scope{Tenant: "acme"}); len(rules) != 0 || !strings.Contains(notice(), "deleted") {
			t.Fatalf("after delete: %d rules, notice %q", len(rules), notice())
		}
	})
	t.Run("Retention", func(t *testing.T) {
		run(t, admin, chromedp.Navigate(e.srv.URL+"/settings/retention"),
			chromedp.SetValue(chromedp.ID("r-days"), "90"), follow(`form[action="/settings/retention"] button`))
		if p, _ := e.db.RetentionPolicy(t.Context(), "acme"); p.Days != 90 || !strings.Contains(notice(), "saved") {
			t.Fatalf("days %d, notice %q", p.Days, notice())
		}
		run(t, admin, chromedp.SetValue(chromedp.ID("h-kind"), "target"),
			chromedp.SendKeys(chromedp.ID("h-ttype"), "document"), chromedp.SendKeys(chromedp.ID("h-tid"), "d_1042"),
			chromedp.SendKeys(chromedp.ID("h-reason"), "Litigation 2026-114"),
			follow(`form[action="/settings/holds"] button`))
		holds, _ := e.db.Holds(t.Context(), trail.Scope{Tenant: "acme"})
		if len(holds) != 1 || holds[0].TargetID != "d_1042" {
			t.Fatalf("holds %+v", holds)
		}
		screenshot("settings-retention.png")
		run(t, admin, follow(`button[aria-label="Release hold `+holds[0].ID+`"]`))
		if holds, _ := e.db.Holds(t.Context(), trail.Scope{Tenant: "acme"}); len(holds) != 0 || !strings.Contains(notice(), "released") {
			t.Fatalf("after release: %d holds, notice %q", len(holds), notice())
		}
	})
	t.Run("Schemas", func(t *testing.T) {
		run(t, admin, chromedp.Navigate(e.srv.URL+"/settings/schemas"),
			chromedp.SetValue(chromedp.ID("s-mode"), "enforce"), follow(`form[action="/settings/schemas/validation"] button`))
		if mode, _ := e.db.ValidationMode(t.Context(), "acme"); mode != trail.ValidationEnforce ||
			eval[string](t, admin, `document.getElementById("validation-mode").textContent`) != "enforce" {
			t.Fatalf("mode %s after switching to enforce", mode)
		}
		screenshot("settings-schemas.png")
		run(t, admin, follow(`a[href="/settings/schemas/document.shared"]`))
		if text := eval[string](t, admin, `document.querySelector("#v1 pre").innerText`); !strings.Contains(text, `"permission"`) {
			t.Fatalf("version 1 shows %q", text)
		}
	})
	t.Run("MemberForbidden", func(t *testing.T) {
		member := tab(t)
		signIn(t, member, e.srv.URL, e.member, password)
		for _, path := range []string{"/settings/streams", "/settings/alerts", "/settings/retention", "/settings/schemas"} {
			run(t, member, chromedp.Navigate(e.srv.URL+path))
			if text := eval[string](t, member, "document.querySelector('main').innerText"); !strings.Contains(text, "403") {
				t.Fatalf("a member at %s sees %q, want 403", path, text)
			}
		}
	})
}
