package console_test

import (
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/trailhq/trail"
)

// headerLabels lists the audit table's headers, a "*" after each that
// links (sorts).
const headerLabels = `[...document.querySelectorAll("table.events th")].map(th =>
	th.textContent.trim() + (th.querySelector("a") ? "*" : ""))`

// TestAuditTable checks the audit table's columns, its sortable headers
// and the column chooser, remembered for the user who chose.
func TestAuditTable(t *testing.T) {
	e := newEnv(t)
	e.seed(t, 60)
	owner := tab(t)
	signIn(t, owner, e.srv.URL, e.owner, password)

	t.Run("Columns", func(t *testing.T) {
		run(t, owner, chromedp.Navigate(e.srv.URL+"/events"))
		got := eval[[]string](t, owner, headerLabels)
		want := []string{"Time (UTC)*", "User*", "Event*", "Entity ID*", "Model*", "Audit Log ID", "IP"}
		if !slices.Equal(got, want) {
			t.Fatalf("headers %q, want %q (* sorts)", got, want)
		}
		rows := eval[[]string](t, owner, `[...document.querySelectorAll("#rows tr")].map(tr => tr.dataset.id + " " +
			[...tr.cells].map(td => td.dataset.label + "=" + td.innerText.replace(/\s+/g, " ").trim()).join("|"))`)
		if !slices.ContainsFunc(rows, func(r string) bool {
			id, cells, _ := strings.Cut(r, " ")
			return strings.Contains(cells, "|Audit Log ID="+id+"|") && strings.Contains(cells, "|Model=document project|") &&
				strings.Contains(cells, "|Entity ID=d_")
		}) {
			t.Fatalf("no row shows its audit log id, models and entity ids: %q", rows[:3])
		}
	})
	t.Run("AuditLogIDSelectsWhole", func(t *testing.T) {
		id := eval[string](t, owner, `document.querySelector("#rows tr").dataset.id`)
		run(t, owner, chromedp.Click(chromedp.CSS(`#rows tr:first-child code.copy`)))
		if got := eval[string](t, owner, "window.getSelection().toString()"); got != id {
			t.Fatalf("one click on the audit log id selects %q, want %q", got, id)
		}
	})
	t.Run("SortByUserReadsInOrder", func(t *testing.T) {
		// An actor whose id sorts last and whose name sorts among the
		// first: a sort by id would leave it off the first page.
		at := time.Now().Add(-time.Hour).UTC()
		amy := &trail.Event{ID: trail.NewID(at), Tenant: "acme", Action: "document.viewed", OccurredAt: at, ReceivedAt: at,
			Actor: trail.Actor{Type: trail.ActorUser, ID: "z_amy", Name: "amy@acme.example"}, Version: 1}
		if err := e.db.AppendBatches(t.Context(), []*trail.Batch{{Events: []*trail.Event{amy}}}); err != nil {
			t.Fatal(err)
		}
		run(t, owner, chromedp.Navigate(e.srv.URL+"/events"), follow(`th:nth-child(2) a`))
		// The names the cells show, in byte order; actors without a name
		// (system) sort first, as "". A named actor's cell shows its id
		// below the name.
		names := eval[[]string](t, owner, `[...document.querySelectorAll("#rows td[data-label=User]")].map(td =>
			td.querySelector("a") && td.querySelector(".sub").textContent.includes("·") ? td.querySelector("a").textContent.trim() : "")`)
		if len(names) != 50 || !slices.IsSorted(names) || !slices.Contains(names, amy.Actor.Name) {
			t.Fatalf("sorted by user, the cells read %q: not in name order, or without %s", names, amy.Actor.Name)
		}
		if got := eval[string](t, owner, `document.querySelector("th:nth-child(2)").getAttribute("aria-sort")`); got != "ascending" {
			t.Fatalf("the User header's aria-sort is %q, want ascending", got)
		}
		run(t, owner, follow(`th:nth-child(2) a`))
		desc := eval[[]string](t, owner, `[...document.querySelectorAll("#rows td[data-label=User] a")].map(a => a.textContent.trim())`)
		if len(desc) == 0 || !slices.IsSortedFunc(desc, func(a, b string) int { return strings.Compare(b, a) }) {
			t.Fatalf("sorted by user again, the names read %q: want Z to A", desc)
		}
	})
	t.Run("SortByModelAndEntity", func(t *testing.T) {
		// The first line of each cell (the first target) is in order.
		for _, c := range []struct{ nth, label string }{{"5", "Model"}, {"4", "Entity ID"}} {
			run(t, owner, chromedp.Navigate(e.srv.URL+"/events?action=document.shared"), follow(`th:nth-child(`+c.nth+`) a`))
			first := eval[[]string](t, owner, `[...document.querySelectorAll("#rows td[data-label='`+c.label+`']")].map(td =>
				td.querySelector(".line") ? td.querySelector(".line").textContent.trim() : "")`)
			if len(first) < 2 || !slices.IsSorted(first) {
				t.Fatalf("sorted by %s, the first targets read %q: not in order", c.label, first)
			}
		}
	})
	t.Run("Chooser", func(t *testing.T) {
		run(t, owner, chromedp.Navigate(e.srv.URL+"/events?action=document.shared"),
			chromedp.Click(chromedp.CSS("#columns summary")),
			chromedp.Click(chromedp.CSS(`#columns input[value=ip]`), chromedp.NodeVisible),
			chromedp.Click(chromedp.CSS(`#columns input[value=user_agent]`), chromedp.NodeVisible))
		checkAxe(t, owner, "the column chooser")
		if *update {
			png := shoot(t, owner, outputDir(t), "columns.png")
			b, _ := os.ReadFile(png)
			os.WriteFile(filepath.Join("..", "docs", "console-columns.png"), b, 0o644)
		}
		run(t, owner, follow(`#columns button[type=submit]`))
		if got := eval[string](t, owner, "location.search"); got != "?action=document.shared" {
			t.Fatalf("after choosing columns at %q, want back at the filtered view", got)
		}
		want := []string{"Time (UTC)*", "User*", "Event*", "Entity ID*", "Model*", "Audit Log ID", "User agent"}
		run(t, owner, chromedp.Navigate(e.srv.URL+"/events"))
		if got := eval[[]string](t, owner, headerLabels); !slices.Equal(got, want) {
			t.Fatalf("after a reload, headers %q, want %q", got, want)
		}
		if ua := eval[string](t, owner, `document.querySelector("#rows").innerText`); !strings.Contains(ua, "Firefox/140.0") {
			t.Fatal("no row shows the user agent")
		}
	})
	t.Run("TimesInUTC24Hour", func(t *testing.T) {
		since := time.Now().UTC().Add(-30 * time.Hour).Truncate(time.Minute)
		typed := since.Format("2006-01-02 15:04")
		run(t, owner, chromedp.Navigate(e.srv.URL+"/events?action=document.viewed"),
			chromedp.SendKeys(chromedp.ID("f-since"), typed), follow("button.primary"))
		if got := eval[string](t, owner, `document.getElementById("f-since").value`); got != typed {
			t.Fatalf("the From field reads %q after applying, want %q as typed", got, typed)
		}
		times := eval[[]string](t, owner, `[...document.querySelectorAll("#rows time")].map(t => t.getAttribute("datetime"))`)
		if len(times) == 0 {
			t.Fatal("no events since " + typed)
		}
		for _, s := range times {
			if at, err := time.Parse(time.RFC3339Nano, s); err != nil || at.Before(since) {
				t.Fatalf("row at %s is before %s UTC", s, typed)
			}
		}
		if got := eval[string](t, owner, `document.getElementById("f-since").type + " " + document.querySelector("label[for=f-since]").textContent`); got != "text From (UTC, 24-hour)" {
			t.Fatalf("From field: %q", got)
		}
		run(t, owner, chromedp.Navigate(e.srv.URL+"/events"), chromedp.SendKeys(chromedp.ID("f-until"), "12/01/2026 1:05 PM"),
			follow("button.primary"))
		msg := eval[string](t, owner, `document.querySelector("main .alert").textContent + " | " + document.getElementById("f-until").value`)
		if !strings.Contains(msg, "until") || !strings.HasSuffix(msg, "| 12/01/2026 1:05 PM") {
			t.Fatalf("a 12-hour time reads %q, want an error naming until and the text kept", msg)
		}
	})
	t.Run("EntityActionsOnly", func(t *testing.T) {
		// Every seventh acme event touches d_1042, and each of them is a
		// document.shared (seed).
		options := `[...document.querySelectorAll("#f-action option")].map(o => o.value)`
		run(t, owner, chromedp.Navigate(e.srv.URL+"/entity?target_type=document&target_id=d_1042"))
		if got := eval[[]string](t, owner, options); !slices.Equal(got, []string{"", "document.shared"}) {
			t.Fatalf("the entity's action filter offers %q, want its one action", got)
		}
		run(t, owner, chromedp.Navigate(e.srv.URL+"/events"))
		if got := eval[[]string](t, owner, options); len(got) < 8 || !slices.Contains(got, "billing.plan_changed") {
			t.Fatalf("the audit log's action filter offers %q, want every action", got)
		}
	})
	t.Run("AnotherUserGetsTheDefaults", func(t *testing.T) {
		run(t, owner, follow(`form[action="/logout"] button`))
		signIn(t, owner, e.srv.URL, e.admin, password)
		run(t, owner, chromedp.Navigate(e.srv.URL+"/events"))
		if got := eval[[]string](t, owner, headerLabels); slices.Contains(got, "User agent") || !slices.Contains(got, "IP") {
			t.Fatalf("another user of the browser sees %q, want the default columns", got)
		}
	})
}

// TestColumnsRefused checks that the chooser refuses unknown and missing
// columns and forms without the CSRF token, naming the field, and that a
// refused choice changes nothing.
func TestColumnsRefused(t *testing.T) {
	e := newEnv(t)
	c := e.signedIn(t, e.admin)
	_, page := e.get(t, c, "/events")
	token := csrf(t, page)
	for _, tt := range []struct {
		form   url.Values
		status int
		want   string
	}{
		{url.Values{"csrf": {token}, "col": {"time", "password_hash"}}, 400, "col: unknown column"},
		{url.Values{"csrf": {token}}, 400, "col: choose at least one column"},
		{url.Values{"col": {"time"}}, 403, "CSRF"},
		{url.Values{"csrf": {token}, "col": {"time"}, "back": {"//evil.example/"}}, 303, ""},
	} {
		resp, body := e.post(t, c, "/events/columns", tt.form)
		if resp.StatusCode != tt.status || !strings.Contains(body, tt.want) {
			t.Errorf("POST %v: %d %q, want %d naming %q", tt.form, resp.StatusCode, body, tt.status, tt.want)
		}
		if resp.StatusCode == 303 && resp.Header.Get("Location") != "/" {
			t.Errorf("POST %v went to %q, want / (not another site)", tt.form, resp.Header.Get("Location"))
		}
	}
	_, page = e.get(t, c, "/events")
	if strings.Contains(page, `data-label="IP"`) || !strings.Contains(page, `data-label="Time"`) {
		t.Error("after the refused choices and one of Time only, the table does not show Time alone")
	}
}
