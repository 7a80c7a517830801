package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/console"
)

var logMessageRE = regexp.MustCompile(`<td data-label="Message" class="message">([^<]*)</td>`)

// logMessages returns the messages of an event page's log table, in order.
func logMessages(body string) []string {
	var msgs []string
	for _, m := range logMessageRE.FindAllStringSubmatch(body, -1) {
		msgs = append(msgs, html.UnescapeString(m[1]))
	}
	return msgs
}

// appendLogs stores log lines of tenant's trace, one millisecond apart
// from start, with the given messages and attributes.
func (e *env) appendLogs(tb testing.TB, tenant, trace string, start time.Time, lines ...trail.LogRecord) {
	tb.Helper()
	recs := make([]*trail.LogRecord, len(lines))
	for i, l := range lines {
		at := start.Add(time.Duration(i) * time.Millisecond)
		l.ID, l.Tenant, l.TraceID, l.Time, l.ReceivedAt = trail.NewID(at), tenant, trace, at, at
		if l.Level == "" {
			l.Level = trail.LevelInfo
		}
		recs[i] = &l
	}
	if err := e.db.AppendLogs(context.Background(), recs); err != nil {
		tb.Fatal(err)
	}
}

func TestEventLogs(t *testing.T) {
	e := newEnv(t)
	events := e.seed(t, 10)
	ev := events[3] // acme, with a trace id
	start := time.Now().Add(-time.Minute).UTC().Truncate(time.Microsecond)
	e.appendLogs(t, "acme", ev.TraceID, start,
		trail.LogRecord{Message: "check permission", Attributes: json.RawMessage(`{"document":"d_1003","allowed":true}`)},
		trail.LogRecord{Level: trail.LevelWarn, Message: "slow query <script>alert(1)</script>", SpanID: "00f067aa0ba902b7"},
		trail.LogRecord{Level: trail.LevelError, Message: "notify owner:\nsmtp timeout", Attributes: json.RawMessage(`{"html":"</code><b>x</b>"}`)},
	)
	// Another tenant sends logs under the same trace id: acme must not see
	// them on its event's page.
	e.appendLogs(t, "globex", ev.TraceID, start, trail.LogRecord{Message: "globex secret log line"})
	owner := e.signedIn(t, e.owner)

	t.Run("Shown", func(t *testing.T) {
		status, body := e.get(t, owner, "/events/"+ev.ID)
		if status != http.StatusOK {
			t.Fatalf("status %d", status)
		}
		got := logMessages(body)
		want := []string{"check permission", "slow query <script>alert(1)</script>", "notify owner:\nsmtp timeout"}
		if !slices.Equal(got, want) {
			t.Fatalf("log messages %q, want %q", got, want)
		}
		for _, s := range []string{
			`<h2 id="h-logs">Execution logs</h2>`,
			`<span class="badge level-warn">warn</span>`,
			`span <span class="mono">00f067aa0ba902b7</span>`,
			`<code class="attrs">{&#34;allowed&#34;:true,&#34;document&#34;:&#34;d_1003&#34;}</code>`,
			`&lt;script&gt;alert(1)&lt;/script&gt;`,
			`<code class="attrs">{&#34;html&#34;:&#34;&lt;/code&gt;&lt;b&gt;x&lt;/b&gt;&#34;}</code>`,
			`<time datetime="` + start.Format(time.RFC3339Nano) + `">` + start.Format("2006-01-02 15:04:05.000") + `</time>`,
		} {
			if !strings.Contains(body, s) {
				t.Errorf("event page lacks %s", s)
			}
		}
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<b>x</b>") {
			t.Error("a log line's markup reached the page unescaped")
		}
		if strings.Contains(body, "globex secret") {
			t.Error("acme sees a log line that globex sent with the same trace id")
		}
	})
	t.Run("OtherTenantNotFound", func(t *testing.T) {
		status, body := e.get(t, e.signedIn(t, e.globex), "/events/"+ev.ID)
		if status != http.StatusNotFound || strings.Contains(body, "check permission") {
			t.Fatalf("globex opened acme's event: status %d", status)
		}
	})
	t.Run("NoTrace", func(t *testing.T) {
		login := e.recorded(t, "acme", trail.ActionLoginSuccess)[0] // recorded without a trace id
		_, body := e.get(t, owner, "/events/"+login.ID)
		if !strings.Contains(body, "None: this event has no trace ID.") || strings.Contains(body, `<table class="logs">`) {
			t.Fatal("an event without a trace id does not say it has no logs")
		}
	})
	t.Run("NoLogs", func(t *testing.T) {
		_, body := e.get(t, owner, "/events/"+events[4].ID)
		if !strings.Contains(body, "No execution logs for trace <span class=\"mono\">"+events[4].TraceID) {
			t.Fatal("a traced event without logs does not say so")
		}
	})
	t.Run("ErrBadCursor", func(t *testing.T) {
		status, body := e.get(t, owner, "/events/"+ev.ID+"?logs_after=nonsense")
		if status != http.StatusBadRequest || !strings.Contains(body, "logs_after") {
			t.Fatalf("status %d, want 400 naming logs_after", status)
		}
	})
}

// TestEventLogsPaging pages through more log lines than one page holds.
func TestEventLogsPaging(t *testing.T) {
	e := newEnv(t)
	ev := e.seed(t, 3)[1]
	n := console.LogsPerPage + 5
	lines := make([]trail.LogRecord, n)
	for i := range lines {
		lines[i].Message = fmt.Sprintf("step %03d", i)
	}
	e.appendLogs(t, "acme", ev.TraceID, time.Now().Add(-time.Hour).UTC(), lines...)
	c := e.signedIn(t, e.owner)

	_, first := e.get(t, c, "/events/"+ev.ID)
	next := nextLink(first)
	if !strings.HasPrefix(next, "/events/"+ev.ID+"?logs_after=") || strings.Contains(first, "First log lines") {
		t.Fatalf("first page: next link %q", next)
	}
	status, second := e.get(t, c, next)
	if status != http.StatusOK {
		t.Fatalf("GET %s: status %d", next, status)
	}
	got := append(logMessages(first), logMessages(second)...)
	if len(logMessages(first)) != console.LogsPerPage || len(got) != n {
		t.Fatalf("pages of %d and %d lines, want %d and %d", len(logMessages(first)), len(got)-len(logMessages(first)),
			console.LogsPerPage, n-console.LogsPerPage)
	}
	for i, msg := range got {
		if want := fmt.Sprintf("step %03d", i); msg != want {
			t.Fatalf("line %d is %q, want %q: lines are lost, repeated or out of order", i, msg, want)
		}
	}
	if nextLink(second) != "" || !strings.Contains(second, `<a class="button" href="/events/`+ev.ID+`#logs">« First log lines</a>`) {
		t.Fatal("the last page links further, or not back to the first lines")
	}
}
