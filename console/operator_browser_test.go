package console_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/trailhq/trail"
)

// TestBrowserOperator drives the console in Chromium as a platform user:
// sign in with organization @operator, open acme's log with the picker,
// read it without export, and find the view recorded in acme's log.
func TestBrowserOperator(t *testing.T) {
	e := newEnv(t)
	events := e.seed(t, 12)
	op := e.newUser(t, trail.OperatorTenant, "ops@trail.example", trail.RoleOwner)
	ctx := tab(t)
	signIn(t, ctx, e.srv.URL, op, password)
	if loc := eval[string](t, ctx, "location.pathname"); loc != "/events" {
		t.Fatalf("the operator signed in at %s, want /events", loc)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('nav a[href="/settings"], nav a[href="/users"]').length`); n != 0 {
		t.Fatalf("the operator's navigation offers %d settings or users links", n)
	}
	run(t, ctx, chromedp.SendKeys(chromedp.ID("f-tenant"), "acme"), follow(`#tenant-picker button`))
	if q := eval[string](t, ctx, "location.search"); !strings.Contains(q, "tenant=acme") {
		t.Fatalf("the picker opened %q", q)
	}
	notice := eval[string](t, ctx, `document.getElementById("operator-view").textContent`)
	body := eval[string](t, ctx, `document.body.innerHTML`)
	if !strings.Contains(notice, "recorded in acme's log") || !strings.Contains(body, events[0].ID) ||
		eval[bool](t, ctx, `document.getElementById("export") !== null`) {
		t.Fatalf("acme's log as the operator sees it: notice %q\n%s", notice, body)
	}
	shoot(t, ctx, outputDir(t), "operator-tenant-view.png")
	got := e.recorded(t, "acme", trail.ActionTenantViewedByOperator)
	if len(got) != 1 || got[0].Actor.Name != op.Email {
		t.Fatalf("acme's log records %d operator views (%+v), want 1 naming %s", len(got), got, op.Email)
	}
}
