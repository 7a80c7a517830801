package console_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/testenv"
)

// axeVersion is the axe-core release that the browser tests inject into
// pages; it is installed from npm into the user's cache folder once.
const axeVersion = "4.14.1"

// axeScript is axe-core's script, read once per test binary.
var axeScript = sync.OnceValues(func() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "trail-test", "axe-core-"+axeVersion)
	file := filepath.Join(dir, "node_modules", "axe-core", "axe.min.js")
	if _, err := os.Stat(file); err != nil {
		npm, err := exec.LookPath("npm")
		if err != nil {
			return "", err
		}
		// Install beside the folder, then rename: test binaries that
		// install at once never read a half-installed package.
		tmp, err := os.MkdirTemp(filepath.Dir(dir), "axe-install-")
		if err != nil {
			if err = os.MkdirAll(filepath.Dir(dir), 0o755); err == nil {
				tmp, err = os.MkdirTemp(filepath.Dir(dir), "axe-install-")
			}
			if err != nil {
				return "", err
			}
		}
		defer os.RemoveAll(tmp)
		cmd := exec.Command(npm, "install", "--prefix", tmp, "--no-save", "--no-audit", "--no-fund",
			"--loglevel=error", "axe-core@"+axeVersion)
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("npm install axe-core@%s: %w\n%s", axeVersion, err, out)
		}
		if err := os.Rename(tmp, dir); err != nil && !errors.Is(err, fs.ErrExist) {
			if _, statErr := os.Stat(file); statErr != nil {
				return "", err
			}
		}
	}
	b, err := os.ReadFile(file)
	return string(b), err
})

// checkAxe runs axe-core over the page open in ctx and fails the test on
// every serious or critical violation, naming the rule and the elements.
func checkAxe(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	src, err := axeScript()
	var notFound *exec.Error
	if errors.As(err, &notFound) {
		testenv.Require(t, "npm (for axe-core)", "apt-get install npm", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !eval[bool](t, ctx, `typeof axe === "object"`) {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](src+";0")); err != nil {
			t.Fatalf("inject axe-core: %v", err)
		}
	}
	found, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`axe.run(document, {resultTypes: ["violations"]}).then(r =>
		r.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v =>
			v.impact + " " + v.id + ": " + v.help + " at " + v.nodes.slice(0, 4).map(n => n.target.join(" ")).join(", ")))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe-core on %s: %v", name, err)
	}
	if len(found) > 0 {
		t.Errorf("axe-core finds on %s:\n%s", name, strings.Join(found, "\n"))
	}
}

// noSidewaysScroll fails the test when the page open in ctx is wider than
// the viewport of width px.
func noSidewaysScroll(t *testing.T, ctx context.Context, name string, width int) {
	t.Helper()
	if w := eval[int](t, ctx, "document.documentElement.scrollWidth"); w > width {
		wide := eval[[]string](t, ctx, fmt.Sprintf(`[...document.querySelectorAll("body *")].filter(el =>
			el.getBoundingClientRect().right > %d && ![...el.children].some(c => c.getBoundingClientRect().right > %d)).
			slice(0, 5).map(el => el.tagName.toLowerCase() + (el.className ? "." + el.className : "") + " " + el.textContent.slice(0, 40))`, width, width))
		t.Errorf("at %d px %s is %d px wide: it scrolls sideways (%s)", width, name, w, strings.Join(wide, "; "))
	}
}

// TestAccessibility opens every console page, signed out and as the owner,
// at desktop width and at 320 px: axe-core finds no serious or critical
// violation, and no page scrolls sideways.
func TestAccessibility(t *testing.T) {
	e := newEnv(t)
	events := e.seed(t, 60)
	ev := events[len(events)-7]
	e.appendLogs(t, "acme", ev.TraceID, ev.OccurredAt, traceLogs...)
	long := trail.NewSystemEvent("acme", "billing.subscription_payment_method.updated_through_customer_self_service_portal",
		trail.Actor{Type: trail.ActorUser, ID: "u_" + strings.Repeat("x", 60)}, trail.Context{}, time.Now(),
		trail.Target{Type: "payment_method_configuration", ID: strings.Repeat("pm_", 30)})
	if err := e.writer.Append(t.Context(), &trail.Batch{Events: []*trail.Event{long}}); err != nil {
		t.Fatal(err)
	}
	out := tab(t)
	owner := tab(t)
	signIn(t, owner, e.srv.URL, e.owner, password)
	pages := []struct {
		name string
		ctx  context.Context
		open chromedp.Action[chromedp.Void]
	}{
		{"sign-in", out, chromedp.Navigate(e.srv.URL + "/login")},
		{"failed sign-in", out, nil},
		{"audit log", owner, chromedp.Navigate(e.srv.URL + "/events")},
		{"entity", owner, chromedp.Navigate(e.srv.URL + "/entity?target_type=document&target_id=d_1042")},
		{"event", owner, chromedp.Navigate(e.srv.URL + "/events/" + ev.ID)},
		{"event with long names", owner, chromedp.Navigate(e.srv.URL + "/events/" + long.ID)},
		{"settings", owner, chromedp.Navigate(e.srv.URL + "/settings")},
		{"users", owner, chromedp.Navigate(e.srv.URL + "/users")},
		{"account", owner, chromedp.Navigate(e.srv.URL + "/account")},
		{"streams", owner, chromedp.Navigate(e.srv.URL + "/settings/streams")},
		{"alert rules", owner, chromedp.Navigate(e.srv.URL + "/settings/alerts")},
		{"retention", owner, chromedp.Navigate(e.srv.URL + "/settings/retention")},
		{"schemas", owner, chromedp.Navigate(e.srv.URL + "/settings/schemas")},
		{"not found", owner, chromedp.Navigate(e.srv.URL + "/nowhere")},
	}
	for _, width := range []int{1280, 320} {
		for _, p := range pages {
			t.Run(fmt.Sprintf("%s/%d", p.name, width), func(t *testing.T) {
				run(t, p.ctx, chromedp.EmulateViewport(int64(width), 800))
				if p.open == nil {
					signIn(t, p.ctx, e.srv.URL, e.owner, "not my password")
				} else {
					run(t, p.ctx, p.open)
				}
				checkAxe(t, p.ctx, p.name)
				noSidewaysScroll(t, p.ctx, p.name, width)
			})
		}
	}

	t.Run("FailedSignInMarksEveryField", func(t *testing.T) {
		run(t, out, chromedp.EmulateViewport(1280, 800))
		signIn(t, out, e.srv.URL, e.owner, "not my password")
		got := eval[[]string](t, out, `["tenant", "email", "password"].map(id => {
			const el = document.getElementById(id);
			return id + " " + el.getAttribute("aria-invalid") + " " + el.getAttribute("aria-describedby") })`)
		want := []string{"tenant true login-error", "email true login-error", "password true login-error"}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("fields after a failed sign-in: %q, want %q", got, want)
		}
	})
	t.Run("SkipLinkMovesFocus", func(t *testing.T) {
		run(t, owner, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(e.srv.URL+"/events"),
			chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(kb.Enter))
		if got := eval[string](t, owner, "document.activeElement.id"); got != "main" {
			t.Fatalf("after the skip link focus is on %q, want main", got)
		}
	})
	t.Run("FocusRingContrast", func(t *testing.T) {
		// WCAG 1.4.11: the focus ring stands out 3:1 from the background
		// behind it, on the light page and on the dark bar.
		run(t, owner, chromedp.Navigate(e.srv.URL+"/events"))
		for _, sel := range []string{"#f-action", "#f-q", ".top nav a"} {
			ratio := eval[float64](t, owner, `(() => {
				const el = document.querySelector(`+"`"+sel+"`"+`); el.focus({focusVisible: true});
				const rgb = c => c.match(/[\d.]+/g).slice(0, 3).map(Number);
				const lum = c => { const [r, g, b] = rgb(c).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4 });
					return 0.2126 * r + 0.7152 * g + 0.0722 * b };
				let bg = el.parentElement;
				while (getComputedStyle(bg).backgroundColor === "rgba(0, 0, 0, 0)") bg = bg.parentElement;
				const a = lum(getComputedStyle(el).outlineColor), b = lum(getComputedStyle(bg).backgroundColor);
				return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05) })()`)
			if ratio < 3 {
				t.Errorf("focus ring of %s is %.2f:1 against its background, want at least 3:1", sel, ratio)
			}
		}
	})
}
