package console

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/trailhq/trail"
)

// LogsPerPage is how many execution log lines an event's page shows at a
// time; a Next link continues after the last one.
const LogsPerPage = 200

// logsView is the execution logs section of an event's page: what was
// done, and how.
type logsView struct {
	// Kept is false when the store keeps no execution logs.
	Kept    bool
	TraceID string
	Lines   []*trail.LogRecord
	// Later is true on every page after the first.
	Later    bool
	NextURL  string
	FirstURL string
}

// readEvent reads event id in scope and the page of its trace's logs that the logs_after parameter asks
// for. trail.EventLogs reads the logs of the event's own tenant, so logs
// another tenant sent with the same trace id never show.
func (s *Server) readEvent(r *http.Request, scope trail.Scope, id string) (*trail.Event, *logsView, error) {
	after, err := parseLogCursor(query(r).Get("logs_after"))
	if err != nil {
		return nil, nil, err
	}
	// One line more than shown tells whether a next page exists, so the
	// Next link never leads to an empty page.
	e, lines, err := trail.EventLogs(r.Context(), s.store, scope, id, after, LogsPerPage+1)
	if err != nil {
		return nil, nil, err
	}
	lv := &logsView{Kept: true, TraceID: e.TraceID, Lines: lines, Later: after != nil}
	base := "/events/" + url.PathEscape(e.ID)
	if len(lines) > LogsPerPage {
		lv.Lines = lines[:LogsPerPage]
		next := url.Values{"logs_after": {formatLogCursor(lv.Lines[LogsPerPage-1])}}
		lv.NextURL = base + "?" + next.Encode() + "#logs"
	}
	if lv.Later {
		lv.FirstURL = base + "#logs"
	}
	return e, lv, nil
}

// formatLogCursor is the position after l: its time in microseconds and
// its id, the order of a trace's logs.
func formatLogCursor(l *trail.LogRecord) string {
	return strconv.FormatInt(l.Time.UnixMicro(), 10) + "." + l.ID
}

// parseLogCursor reads a cursor of formatLogCursor; "" is the first page.
func parseLogCursor(s string) (*trail.LogCursor, error) {
	if s == "" {
		return nil, nil
	}
	us, id, _ := strings.Cut(s, ".")
	n, err := strconv.ParseInt(us, 10, 64)
	if err != nil || !trail.ValidID(id) {
		return nil, trail.Invalid("logs_after", "not a log position this console issued; open the event again")
	}
	return &trail.LogCursor{Time: time.UnixMicro(n).UTC(), ID: id}, nil
}

// logTime shows a log line's time to the millisecond: the lines of one
// request are often within the same second.
func logTime(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05.000")
}

// rawJSON shows a JSON object on one line, keys sorted, without the
// \u003c-style escapes that stored JSON has for <, > and &, so that URLs
// and messages read as sent (the template escapes the text for HTML).
// It is "" for an empty object or none.
func rawJSON(raw json.RawMessage) string {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if len(raw) == 0 || dec.Decode(&v) != nil {
		return string(raw)
	}
	if m, ok := v.(map[string]any); v == nil || ok && len(m) == 0 {
		return ""
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return string(raw)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}
