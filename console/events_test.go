package console_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
)

var rowRE = regexp.MustCompile(`<tr data-id="([^"]+)"`)

// rowIDs returns the event ids of a page's table rows, in order.
func rowIDs(body string) []string {
	var ids []string
	for _, m := range rowRE.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// touching returns the ids of the seeded acme events that pass keep.
func touching(events []*trail.Event, keep func(*trail.Event) bool) []string {
	var ids []string
	for _, ev := range events {
		if ev.Tenant == "acme" && keep(ev) {
			ids = append(ids, ev.ID)
		}
	}
	return ids
}

func TestEventsPage(t *testing.T) {
	e := newEnv(t)
	events := e.seed(t, 120)
	c := e.signedIn(t, e.owner)
	t.Run("ScopeAndPaging", func(t *testing.T) {
		var all []string
		path := "/events"
		for path != "" {
			status, body := e.get(t, c, path)
			if status != http.StatusOK {
				t.Fatalf("GET %s: status %d", path, status)
			}
			if strings.Contains(body, "secret.globex_only") {
				t.Fatal("acme's owner sees a globex event")
			}
			ids := rowIDs(body)
			if len(ids) > 50 {
				t.Fatalf("page has %d rows, want at most 50", len(ids))
			}
			all = append(all, ids...)
			path = nextLink(body)
		}
		// 120 acme events, 3 system events, and the owner's login.success.
		if got, want := len(all), 124; got != want {
			t.Fatalf("paged through %d events, want %d", got, want)
		}
		if len(slices.Compact(slices.Sorted(slices.Values(all)))) != len(all) {
			t.Fatal("an event appeared on two pages")
		}
	})
	t.Run("Filter", func(t *testing.T) {
		want := touching(events, func(ev *trail.Event) bool { return ev.Action == "document.deleted" })
		_, body := e.get(t, c, "/events?limit=1000&action=document.deleted&actor_id=&since=")
		if got := rowIDs(body); !sameSet(got, want) {
			t.Fatalf("action filter: %d rows, want %d", len(got), len(want))
		}
		if !strings.Contains(body, `<option value="document.deleted" selected>`) {
			t.Fatal("the action dropdown does not show the filter")
		}
	})
	t.Run("DateRange", func(t *testing.T) {
		since, until := events[10].OccurredAt, events[20].OccurredAt
		want := touching(events, func(ev *trail.Event) bool {
			return !ev.OccurredAt.Before(since) && ev.OccurredAt.Before(until)
		})
		q := url.Values{"since": {since.Format("2006-01-02T15:04:05")}, "until": {until.Format("2006-01-02T15:04:05")}}
		_, body := e.get(t, c, "/events?"+q.Encode())
		if got := rowIDs(body); !sameSet(got, want) {
			t.Fatalf("date range: %d rows, want %d", len(got), len(want))
		}
	})
	t.Run("Sort", func(t *testing.T) {
		for _, sort := range []string{trail.SortActor, trail.SortActorName, trail.SortTargetType, trail.SortTargetID} {
			_, body := e.get(t, c, "/events?sort="+sort+"&limit=1000")
			var keys []string
			for _, id := range rowIDs(body) {
				ev, _ := e.db.Event(context.Background(), trail.Scope{All: true}, id)
				keys = append(keys, trail.SortKeyOf(sort, ev))
			}
			if !slices.IsSorted(keys) || len(keys) != 124 {
				t.Fatalf("sort=%s: %d rows, sorted %v", sort, len(keys), slices.IsSorted(keys))
			}
			if sort == trail.SortActor {
				continue // no header sorts by actor id
			}
			if !strings.Contains(body, `aria-sort="ascending"><a href="/events?limit=1000&amp;order=desc&amp;sort=`+sort+`"`) {
				t.Fatalf("sort=%s: the sorted column header does not offer the other order", sort)
			}
		}
	})
	t.Run("Text", func(t *testing.T) {
		_, body := e.get(t, c, "/events?q="+url.QueryEscape(events[17].TraceID))
		if got := rowIDs(body); len(got) != 1 || got[0] != events[17].ID {
			t.Fatalf("text filter on a trace id: rows %v, want [%s]", got, events[17].ID)
		}
	})
	t.Run("TextSyntax", func(t *testing.T) {
		for q, keep := range map[string]func(*trail.Event) bool{
			`target.name:"q3 board"`: func(ev *trail.Event) bool { return ev.Targets[0].Name == "Q3 board deck" },
			"target.id:d_1042 -q3":   func(*trail.Event) bool { return false },
			"board OR " + events[17].ID: func(ev *trail.Event) bool {
				return ev.Targets[0].Name == "Q3 board deck" || ev.ID == events[17].ID
			},
			"actor.id:" + events[3].Actor.ID + " NOT board": func(ev *trail.Event) bool {
				return ev.Actor.ID == events[3].Actor.ID && ev.Targets[0].Name != "Q3 board deck"
			},
		} {
			_, body := e.get(t, c, "/events?limit=1000&q="+url.QueryEscape(q))
			if want := touching(events, keep); !sameSet(rowIDs(body), want) || len(rowIDs(body)) != len(want) {
				t.Errorf("q=%s: %d rows, want %d", q, len(rowIDs(body)), len(want))
			}
		}
		status, body := e.get(t, c, "/events?q="+url.QueryEscape("acter.name:ada"))
		if status != http.StatusBadRequest || !strings.Contains(body, "q: names an unknown field") {
			t.Fatalf("a misspelt field: %d, want 400 naming q", status)
		}
	})
	t.Run("TextPaging", func(t *testing.T) {
		want := touching(events, func(ev *trail.Event) bool { return ev.Targets[0].ID == "d_1042" })
		var all []string
		path := "/events?limit=5&q=Q3+BOARD"
		for path != "" {
			_, body := e.get(t, c, path)
			all = append(all, rowIDs(body)...)
			path = nextLink(body)
		}
		if !sameSet(all, want) || len(all) != len(want) {
			t.Fatalf("text filter over pages: %d rows, want %d", len(all), len(want))
		}
	})
	t.Run("Entity", func(t *testing.T) {
		want := touching(events, func(ev *trail.Event) bool { return ev.Targets[0].ID == "d_1042" })
		status, body := e.get(t, c, "/entity?target_type=document&target_id=d_1042&limit=1000")
		if status != http.StatusOK || !sameSet(rowIDs(body), want) {
			t.Fatalf("entity timeline: status %d, %d rows, want %d (no globex events)", status, len(rowIDs(body)), len(want))
		}
	})
	t.Run("Event", func(t *testing.T) {
		ev := events[17]
		status, body := e.get(t, c, "/events/"+ev.ID)
		for _, want := range []string{ev.TraceID, ev.Context.IP, "Berlin, DE", "&#34;request&#34;: 17", "Version"} {
			if status != http.StatusOK || !strings.Contains(body, want) {
				t.Fatalf("event page: status %d, missing %q", status, want)
			}
		}
	})
	t.Run("ErrOtherTenantEvent", func(t *testing.T) {
		globex := events[len(events)-2]
		if status, _ := e.get(t, c, "/events/"+globex.ID); status != http.StatusNotFound {
			t.Fatalf("globex event: status %d, want 404", status)
		}
	})
	t.Run("ErrBadFilter", func(t *testing.T) {
		for param, field := range map[string]string{"since=yesterday": "since", "sort=ip": "sort", "limit=0": "limit"} {
			status, body := e.get(t, c, "/events?"+param)
			if status != http.StatusBadRequest || !strings.Contains(body, field+":") {
				t.Fatalf("%s: status %d, want 400 naming %s", param, status, field)
			}
		}
	})
}

func TestExport(t *testing.T) {
	e := newEnv(t)
	events := e.seed(t, 60)
	c := e.signedIn(t, e.admin)
	want := touching(events, func(ev *trail.Event) bool { return ev.Action == "document.shared" })
	_, page := e.get(t, c, "/events?action=document.shared&limit=5")
	token := csrf(t, page)
	export := func(form url.Values) *http.Response {
		t.Helper()
		form.Set("csrf", token)
		resp, err := c.PostForm(e.srv.URL+"/export", form)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	t.Run("CSV", func(t *testing.T) {
		resp := export(url.Values{"format": {"csv"}, "action": {"document.shared"}, "limit": {"5"}, "cursor": {""}})
		defer resp.Body.Close()
		rows, err := csv.NewReader(resp.Body).ReadAll()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d, CSV err %v", resp.StatusCode, err)
		}
		if !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") {
			t.Fatalf("Content-Disposition %q, want an attachment", resp.Header.Get("Content-Disposition"))
		}
		var got []string
		for _, r := range rows[1:] {
			got = append(got, r[0])
		}
		if rows[0][0] != "id" || !sameSet(got, want) {
			t.Fatalf("CSV has %d events, want every page of the view: %d", len(got), len(want))
		}
		rec := e.recorded(t, "acme", trail.ActionExportDownloaded)
		if len(rec) != 1 || rec[0].Actor.ID != e.admin.ID || !strings.Contains(string(rec[0].Metadata), `"document.shared"`) {
			t.Fatalf("export.downloaded events %+v, want one by the admin naming the filter", rec)
		}
		wantOrigin(t, rec[0])
	})
	t.Run("JSONLWithText", func(t *testing.T) {
		resp := export(url.Values{"format": {"jsonl"}, "q": {"Q3 board deck"}})
		defer resp.Body.Close()
		var got []string
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			var ev trail.Event
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Fatalf("line %q: %v", sc.Text(), err)
			}
			got = append(got, ev.ID)
		}
		want := touching(events, func(ev *trail.Event) bool { return ev.Targets[0].ID == "d_1042" })
		// The export's own record is stored first and names the text too.
		rec := e.recorded(t, "acme", trail.ActionExportDownloaded)
		want = append(want, rec[len(rec)-1].ID)
		if !sameSet(got, want) {
			t.Fatalf("JSONL with text filter: %d events, want %d", len(got), len(want))
		}
	})
	t.Run("ErrFormat", func(t *testing.T) {
		resp := export(url.Values{"format": {"xml"}})
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "format:") {
			t.Fatalf("format=xml: status %d, want 400 naming format", resp.StatusCode)
		}
	})
	// The filters come from the form only: a filter in the URL, or a
	// format given twice, would be read differently by another parser, so
	// it is a 400 naming it, never an export of more than was asked.
	t.Run("ErrFiltersOutsideTheForm", func(t *testing.T) {
		before := len(e.recorded(t, "acme", trail.ActionExportDownloaded))
		for _, tc := range []struct{ path, body, field string }{
			{"/export?action=nomatch.x", "format=csv", "action"},
			{"/export?format=csv", "format=csv", "format"},
			{"/export", "format=csv&format=jsonl", "format"},
		} {
			resp, err := c.Post(e.srv.URL+tc.path, "application/x-www-form-urlencoded",
				strings.NewReader(tc.body+"&csrf="+url.QueryEscape(token)))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), tc.field+":") {
				t.Errorf("POST %s %s: status %d, want 400 naming %s", tc.path, tc.body, resp.StatusCode, tc.field)
			}
		}
		if after := len(e.recorded(t, "acme", trail.ActionExportDownloaded)); after != before {
			t.Fatalf("refused exports recorded %d export.downloaded events", after-before)
		}
	})
	// A cross-site link or form cannot export: GET does nothing, and a
	// POST without the session's CSRF token is refused. Neither records.
	t.Run("ErrCrossSite", func(t *testing.T) {
		before := len(e.recorded(t, "acme", trail.ActionExportDownloaded))
		if status, _ := e.get(t, c, "/export?format=csv&action=document.shared"); status == http.StatusOK {
			t.Fatalf("GET /export: status %d, want no export", status)
		}
		for _, tok := range []string{"", "00", strings.Repeat("a", len(token))} {
			resp, err := c.PostForm(e.srv.URL+"/export", url.Values{"format": {"csv"}, "csrf": {tok}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("POST /export with csrf %q: status %d, want 403", tok, resp.StatusCode)
			}
		}
		if after := len(e.recorded(t, "acme", trail.ActionExportDownloaded)); after != before {
			t.Fatalf("%d export.downloaded events recorded by refused exports", after-before)
		}
	})
	t.Run("ErrMalformedForm", func(t *testing.T) {
		before := len(e.recorded(t, "acme", trail.ActionExportDownloaded))
		body := "format=csv&action=nomatch.x;&csrf=" + token
		resp, err := c.Post(e.srv.URL+"/export", "application/x-www-form-urlencoded", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(page), "action") {
			t.Fatalf("export with a raw ';' in the form: status %d, want 400 naming the action parameter", resp.StatusCode)
		}
		if after := len(e.recorded(t, "acme", trail.ActionExportDownloaded)); after != before {
			t.Fatal("a refused export was recorded")
		}
	})
	t.Run("PageForm", func(t *testing.T) {
		for _, want := range []string{`<form method="post" action="/export"`, `name="csrf" value="` + token + `"`,
			`name="action" value="document.shared"`, `name="format" value="csv"`} {
			if !strings.Contains(page, want) {
				t.Fatalf("events page lacks %q", want)
			}
		}
		if strings.Contains(page, `href="/export`) {
			t.Fatal("events page still links to GET /export")
		}
	})
}

func TestTail(t *testing.T) {
	e := newEnv(t)
	e.seed(t, 10)
	c := e.signedIn(t, e.owner)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+"/events/tail?action=document.*", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("Content-Type %q, want text/event-stream", resp.Header.Get("Content-Type"))
	}
	lines := bufio.NewScanner(resp.Body)
	waitLine(t, lines, ": following")
	skip := trail.NewSystemEvent("acme", "user.invited", e.owner.Actor(), trail.Context{}, time.Now())
	other := trail.NewSystemEvent("globex", "document.viewed", e.globex.Actor(), trail.Context{}, time.Now())
	match := trail.NewSystemEvent("acme", "document.viewed", e.owner.Actor(), trail.Context{}, time.Now(),
		trail.Target{Type: "document", ID: "d_live"})
	for _, ev := range []*trail.Event{skip, other, match} {
		if err := e.writer.Append(ctx, &trail.Batch{Events: []*trail.Event{ev}}); err != nil {
			t.Fatal(err)
		}
	}
	waitLine(t, lines, "event: row")
	id := waitLine(t, lines, "id: ")
	data := waitLine(t, lines, "data: ")
	var row struct{ ID, HTML string }
	if err := json.Unmarshal([]byte(strings.TrimPrefix(data, "data: ")), &row); err != nil {
		t.Fatal(err)
	}
	if row.ID != match.ID || !strings.Contains(html.UnescapeString(row.HTML), "d_live") {
		t.Fatalf("first live row is %s, want the matching event %s (not the filtered or other tenant's)", row.ID, match.ID)
	}
	// acme's log: 10 seeded, login.success, then skip (11) and match (12);
	// the system log holds 3 events.
	if id != "id: 13.3" {
		t.Fatalf("event id %q, want the cursor past both logs, id: 13.3", id)
	}
	t.Run("CloseStreams", func(t *testing.T) {
		e.con.CloseStreams()
		for lines.Scan() {
		}
		if ctx.Err() != nil {
			t.Fatal("the stream did not end when CloseStreams was called")
		}
	})
}

// waitLine reads lines until one starts with prefix, and returns it.
func waitLine(t *testing.T, sc *bufio.Scanner, prefix string) string {
	t.Helper()
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), prefix) {
			return sc.Text()
		}
	}
	t.Fatalf("stream ended before a line starting with %q: %v", prefix, sc.Err())
	return ""
}

var nextRE = regexp.MustCompile(`<a class="button" href="([^"]+)" rel="next">`)

// nextLink returns the page's "Next page" link, or "".
func nextLink(body string) string {
	m := nextRE.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// sameSet reports whether got and want hold the same ids.
func sameSet(got, want []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want)))
}
