package console_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/pgtest"
	"github.com/trailhq/trail/internal/testenv"
)

var update = flag.Bool("update", false, "copy the audit log screenshot to docs/console.png")

// shared is the one browser of this test binary; every test opens its own
// browser contexts (separate cookies) as tabs in it.
var shared struct {
	once    sync.Once
	ctx     context.Context
	cancel  context.CancelFunc
	missing error // chromium is not installed
	err     error
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := pgtest.Main(m)
	if shared.cancel != nil {
		shared.cancel()
	}
	os.Exit(code)
}

// startBrowser starts headless Chromium once. A machine without it skips
// the test, or fails it under TRAIL_REQUIRE_ALL (scripts/test.sh) or in CI:
// the end-to-end tests are part of the suite.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	shared.once.Do(func() {
		path, err := exec.LookPath("chromium")
		if err != nil {
			shared.missing = err
			return
		}
		dir, err := os.MkdirTemp("", "trail-chromium-")
		if err != nil {
			shared.err = err
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
			chromedp.DisableGPU, chromedp.UserDataDir(dir), chromedp.WindowSize(1280, 900),
			chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true))
		actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, bcancel := chromedp.NewContext(actx)
		shared.ctx = bctx
		shared.cancel = func() { bcancel(); acancel(); os.RemoveAll(dir) }
		if err := chromedp.Do(bctx); err != nil {
			shared.err = fmt.Errorf("start chromium (apt-get install chromium): %w", err)
		}
	})
	testenv.Require(t, "chromium", "apt-get install chromium", shared.missing)
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.ctx
}

// tab opens a tab in a fresh browser context (its own cookies), closed
// when the test ends.
func tab(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(startBrowser(t), chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// run runs steps with a deadline, so a broken page fails fast.
func run(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, steps...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// eval returns the value of a JavaScript expression in the page.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// follow clicks sel and waits for the page it opens to load.
func follow(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.WaitEvent(page.LoadEventFired, nil,
			chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))(ctx, tg)
		return err
	})
}

// outputDir is where screenshots go: $TRAIL_TEST_OUTPUT/console, or a
// folder under the system temp dir.
func outputDir(t *testing.T) string {
	t.Helper()
	base := os.Getenv("TRAIL_TEST_OUTPUT")
	if base == "" {
		base = filepath.Join(os.TempDir(), "trail-test-output")
	}
	dir := filepath.Join(base, "console")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// shoot saves a screenshot of the viewport as dir/name.
func shoot(t *testing.T, ctx context.Context, dir, name string) string {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// signIn opens the sign-in page, fills the form from the keyboard and
// submits it with Enter.
func signIn(t *testing.T, ctx context.Context, base string, u *trail.User, pw string) {
	t.Helper()
	run(t, ctx, chromedp.Navigate(base+"/login"))
	fillSignIn(t, ctx, u, pw)
}

// fillSignIn fills the sign-in form of the current page and submits it.
func fillSignIn(t *testing.T, ctx context.Context, u *trail.User, pw string) {
	t.Helper()
	run(t, ctx,
		chromedp.SendKeys(chromedp.ID("tenant"), u.Tenant),
		chromedp.SendKeys(chromedp.ID("email"), u.Email),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.WaitEvent(page.LoadEventFired, nil,
				chromedp.SendKeys(chromedp.ID("password"), pw+kb.Enter))(ctx, tg)
			return err
		}),
	)
}

func TestBrowser(t *testing.T) {
	e := newEnv(t)
	events := e.seed(t, 120)
	dir := outputDir(t)
	owner := tab(t)

	t.Run("BadLoginRecorded", func(t *testing.T) {
		ctx := tab(t)
		run(t, ctx, chromedp.Navigate(e.srv.URL+"/login"), chromedp.WaitVisible(chromedp.ID("tenant")))
		shoot(t, ctx, dir, "login.png")
		signIn(t, ctx, e.srv.URL, e.owner, "not my password")
		msg := eval[string](t, ctx, `document.getElementById("login-error").textContent`)
		if !strings.Contains(msg, "Wrong organization, email or password") {
			t.Fatalf("sign-in error %q", msg)
		}
		got := e.recorded(t, "acme", trail.ActionLoginFailure)
		if len(got) != 1 || got[0].Context.IP != "127.0.0.1" || !strings.Contains(got[0].Context.UserAgent, "Chrome") {
			t.Fatalf("login.failure events %+v, want one with the browser's IP and user agent", got)
		}
	})
	t.Run("Login", func(t *testing.T) {
		run(t, owner, chromedp.Navigate(e.srv.URL+"/events?action=user.invited"))
		if loc := eval[string](t, owner, "location.pathname"); loc != "/login" {
			t.Fatalf("signed out: at %s, want /login", loc)
		}
		fillSignIn(t, owner, e.owner, password)
		if got := eval[string](t, owner, "location.pathname + location.search"); got != "/events?action=user.invited" {
			t.Fatalf("after sign-in at %s, want back at /events?action=user.invited", got)
		}
	})
	t.Run("Filter", func(t *testing.T) {
		run(t, owner, chromedp.Navigate(e.srv.URL+"/events"),
			chromedp.SetValue(chromedp.ID("f-action"), "document.deleted"), follow("button.primary"))
		want := touching(events, func(ev *trail.Event) bool { return ev.Action == "document.deleted" })
		actions := eval[[]string](t, owner, `[...document.querySelectorAll("#rows td[data-label=Event] a")].map(a => a.textContent)`)
		if len(actions) != len(want) || slices.ContainsFunc(actions, func(a string) bool { return a != "document.deleted" }) {
			t.Fatalf("filtered rows %v, want %d document.deleted", actions, len(want))
		}
		if !strings.Contains(eval[string](t, owner, "location.search"), "action=document.deleted") {
			t.Fatal("the filter is not in the URL")
		}
	})
	t.Run("Sort", func(t *testing.T) {
		run(t, owner, chromedp.Navigate(e.srv.URL+"/events"), follow(`th:nth-child(2) a`))
		// System actors have no id and no link: they sort first, as "".
		ids := eval[[]string](t, owner, `[...document.querySelectorAll("#rows td[data-label=User]")].map(td => {
			const a = td.querySelector("a"); return a ? new URL(a.href).searchParams.get("actor_id") : "" })`)
		sort := eval[string](t, owner, `document.querySelector("th:nth-child(2)").getAttribute("aria-sort")`)
		if len(ids) != 50 || !slices.IsSorted(ids) || sort != "ascending" {
			t.Fatalf("sorted by actor: %d rows, sorted %v, aria-sort %q", len(ids), slices.IsSorted(ids), sort)
		}
	})
	t.Run("Page", func(t *testing.T) {
		rowIDs := `[...document.querySelectorAll("#rows tr")].map(r => r.dataset.id)`
		run(t, owner, chromedp.Navigate(e.srv.URL+"/events"))
		first := eval[[]string](t, owner, rowIDs)
		run(t, owner, follow(`a[rel=next]`))
		second := eval[[]string](t, owner, rowIDs)
		search := eval[string](t, owner, "location.search")
		if len(first) != 50 || len(second) != 50 || slices.ContainsFunc(second, func(id string) bool { return slices.Contains(first, id) }) {
			t.Fatalf("pages of %d and %d rows overlap, want two distinct pages of 50", len(first), len(second))
		}
		if !strings.Contains(search, "cursor=") || !strings.Contains(search, "page=2") {
			t.Fatalf("page 2 URL %q lacks its cursor", search)
		}
	})
	t.Run("OpenRow", func(t *testing.T) {
		ev := events[len(events)-7] // a recent acme event, on the first page
		e.appendLogs(t, "acme", ev.TraceID, ev.OccurredAt, traceLogs...)
		run(t, owner, chromedp.Navigate(e.srv.URL+"/events"), follow(fmt.Sprintf(`tr[data-id="%s"] td a`, ev.ID)))
		text := eval[string](t, owner, "document.querySelector('main').innerText")
		for _, want := range []string{ev.ID, ev.TraceID, ev.Context.UserAgent, "Berlin, DE", `"request"`, traceLogs[2].Message} {
			if !strings.Contains(text, want) {
				t.Fatalf("event page lacks %q", want)
			}
		}
		shoot(t, owner, dir, "event.png")
	})
	t.Run("OpenEntity", func(t *testing.T) {
		run(t, owner, chromedp.Navigate(e.srv.URL+"/events/"+events[112].ID), // 112 % 7 == 0: touches d_1042
			follow(`.card a.chip[href*="target_id=d_1042"]`))
		want := touching(events, func(ev *trail.Event) bool { return ev.Targets[0].ID == "d_1042" })
		got := eval[[]string](t, owner, `[...document.querySelectorAll("#rows tr")].map(r => r.dataset.id)`)
		if !sameSet(got, want) {
			t.Fatalf("entity timeline has %d rows, want %d", len(got), len(want))
		}
		shoot(t, owner, dir, "entity.png")
	})
	t.Run("Export", func(t *testing.T) {
		testExportDownload(t, e, owner, events)
	})
	t.Run("LiveTail", func(t *testing.T) {
		run(t, owner, chromedp.Navigate(e.srv.URL+"/events"), chromedp.Click(chromedp.ID("tail")),
			chromedp.WaitVisible(chromedp.CSS(`#tail[aria-pressed=true][data-state=open]`)))
		// A toggle button keeps its label; its pressed state says that it follows.
		if label := eval[string](t, owner, `document.getElementById("tail").textContent.trim()`); label != "Follow live" {
			t.Fatalf("pressed, the button reads %q, want Follow live", label)
		}
		ev := trail.NewSystemEvent("acme", "document.shared", e.admin.Actor(), trail.Context{IP: "203.0.113.99"},
			time.Now(), trail.Target{Type: "document", ID: "d_live", Name: "Live doc"})
		if err := e.writer.Append(context.Background(), &trail.Batch{Events: []*trail.Event{ev}}); err != nil {
			t.Fatal(err)
		}
		run(t, owner, chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#rows tr[data-id="%s"]`, ev.ID))))
		if first := eval[string](t, owner, `document.querySelector("#rows tr").dataset.id`); first != ev.ID {
			t.Fatalf("first row %s, want the new event %s on top", first, ev.ID)
		}
	})
	t.Run("CreateKey", func(t *testing.T) {
		run(t, owner, chromedp.Navigate(e.srv.URL+"/settings"),
			chromedp.SendKeys(chromedp.ID("k-name"), "billing service"),
			chromedp.Click(chromedp.CSS(`input[name=scopes][value="events:read"]`)),
			follow(`form[action="/settings/keys"] button`))
		secret := eval[string](t, owner, `document.getElementById("secret").value`)
		id, ok := trail.KeyIDFromSecret(secret)
		if !ok {
			t.Fatalf("secret field holds %q, want a key secret", secret)
		}
		run(t, owner, chromedp.Navigate(e.srv.URL+"/settings/streams"),
			chromedp.SendKeys(chromedp.ID("f-name"), "siem"),
			chromedp.SendKeys(chromedp.ID("f-uri"), "https://siem.example.com/trail"),
			follow(`form[action="/settings/forwarders"] button`))
		if s := eval[string](t, owner, `document.getElementById("fsecret").value`); !strings.HasPrefix(s, "whsec_") {
			t.Fatalf("forwarder signing secret field holds %q", s)
		}
		run(t, owner, chromedp.Navigate(e.srv.URL+"/settings"), chromedp.WaitVisible(chromedp.ID("h-keys")))
		text := eval[string](t, owner, "document.body.innerHTML")
		if strings.Contains(text, secret) || !strings.Contains(text, id) {
			t.Fatal("after a reload the secret is still shown, or the key is not listed")
		}
		shoot(t, owner, dir, "settings.png")
	})
	t.Run("Screenshots", func(t *testing.T) {
		run(t, owner, chromedp.Navigate(e.srv.URL+"/events"), chromedp.WaitVisible(chromedp.CSS("#rows")))
		desktop := shoot(t, owner, dir, "events.png")
		run(t, owner, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
			chromedp.Navigate(e.srv.URL+"/events"), chromedp.WaitVisible(chromedp.CSS("#rows")))
		if w := eval[int](t, owner, "document.documentElement.scrollWidth"); w > 390 {
			t.Fatalf("at 390 px the page is %d px wide: it scrolls sideways", w)
		}
		shoot(t, owner, dir, "events-390.png")
		ev := events[len(events)-7] // OpenRow gave it execution logs
		run(t, owner, chromedp.Navigate(e.srv.URL+"/events/"+ev.ID+"#logs"), chromedp.WaitVisible(chromedp.CSS("table.logs")))
		if w := eval[int](t, owner, "document.documentElement.scrollWidth"); w > 390 {
			t.Fatalf("at 390 px the event page is %d px wide: it scrolls sideways", w)
		}
		shoot(t, owner, dir, "event-390.png")
		run(t, owner, chromedp.EmulateViewport(1280, 900))
		if *update {
			b, _ := os.ReadFile(desktop)
			if err := os.WriteFile(filepath.Join("..", "docs", "console.png"), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	})
	t.Run("MemberForbidden", func(t *testing.T) {
		ctx := tab(t)
		signIn(t, ctx, e.srv.URL, e.member, password)
		text := eval[string](t, ctx, "document.querySelector('main').innerText")
		if !strings.Contains(text, "403") || !strings.Contains(text, "Your role (member) cannot view the audit log") {
			t.Fatalf("member sees %q, want a 403 page that says why", text)
		}
		shoot(t, ctx, dir, "forbidden.png")
	})
}

// traceLogs are the execution logs of the event that the browser opens.
var traceLogs = []trail.LogRecord{
	{Message: "authorize share", Attributes: json.RawMessage(`{"permission":"edit","policy":"org-default"}`)},
	{Message: "store grant", SpanID: "00f067aa0ba902b7", Attributes: json.RawMessage(`{"rows":1}`)},
	{Level: trail.LevelWarn, Message: "notification retried", Attributes: json.RawMessage(
		`{"url":"https://hooks.example.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX?attempt=2&channel=docs"}`)},
	{Level: trail.LevelError, Message: "email to bob@acme.example failed:\nsmtp: 451 try again later"},
}

// testExportDownload clicks Export CSV on a filtered view and reads the
// file the browser saved.
func testExportDownload(t *testing.T, e *env, ctx context.Context, events []*trail.Event) {
	downloads := t.TempDir()
	_, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: downloads,
		BrowserContextID: chromedp.FromContext(ctx).BrowserContextID, EventsEnabled: new(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	progress := chromedp.BrowserEvents(tctx, browser.DownloadProgress)
	run(t, ctx, chromedp.Navigate(e.srv.URL+"/events?action=document.shared&limit=10"),
		chromedp.Click(chromedp.CSS(`#export button[value="csv"]`)))
	var file string
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("waiting for the download: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			file = filepath.Join(downloads, ev.GUID)
			break
		}
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := touching(events, func(ev *trail.Event) bool { return ev.Action == "document.shared" })
	if len(rows)-1 != len(want) {
		t.Fatalf("downloaded CSV has %d events, want every page of the view: %d", len(rows)-1, len(want))
	}
	if rec := e.recorded(t, "acme", trail.ActionExportDownloaded); len(rec) != 1 {
		t.Fatalf("%d export.downloaded events, want 1", len(rec))
	}
}
