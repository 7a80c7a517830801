package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/trailhq/trail"
	"github.com/trailhq/trail/httpapi"
	"github.com/trailhq/trail/internal/teststore"
)

// forEachStore runs fn as a subtest against a fresh store of every kind.
func forEachStore(t *testing.T, fn func(t *testing.T, s trail.Store)) {
	t.Helper()
	teststore.ForEach(t, fn)
}

// env is a running API over a real store, behind a real HTTP server.
type env struct {
	store  trail.Store
	writer *trail.Writer
	api    *httpapi.Server
	srv    *httptest.Server
	// offset shifts the API's clock, for tests of expiry.
	offset atomic.Int64
	// platform is the secret of a platform admin key.
	platform string
}

// loopback lets tenants' destinations reach the tests' local receivers.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// allowLoopback is a newEnv option for tests whose tenants' forwarders and
// alert webhooks point at local receivers.
func allowLoopback(c *httpapi.Config) { c.AllowNetworks = loopback }

// newEnv starts the API over s. Its clock is the real one, shifted by
// env.offset. opts may change the configuration before the server starts.
func newEnv(tb testing.TB, s trail.Store, opts ...func(*httpapi.Config)) *env {
	tb.Helper()
	e := &env{store: s}
	reg := prometheus.NewRegistry()
	metrics := httpapi.NewMetrics(reg)
	e.writer = trail.NewWriter(s, 1000, metrics.ObserveCommit)
	cfg := httpapi.Config{
		Store:    s,
		Writer:   e.writer,
		Logger:   slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
		Now:      e.now,
		Registry: reg,
	}
	for _, opt := range opts {
		opt(&cfg)
	}
	e.api = httpapi.New(cfg)
	e.srv = httptest.NewServer(e.api.Handler())
	tb.Cleanup(func() {
		e.srv.Close()
		e.writer.Close()
	})
	e.platform = e.newKey(tb, "", true, trail.ScopeAdmin)
	return e
}

func (e *env) now() time.Time { return time.Now().Add(time.Duration(e.offset.Load())) }

// newKey stores a key straight in the store and returns its secret.
func (e *env) newKey(tb testing.TB, tenant string, platform bool, scopes ...string) string {
	tb.Helper()
	k, secret, err := trail.NewAPIKey("test key", tenant, platform, scopes, time.Time{}, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	if err := e.store.CreateKey(tb.Context(), k); err != nil {
		tb.Fatal(err)
	}
	return secret
}

// response is an answer read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request with secret as its API key ("" for none); headers are
// name, value pairs.
func (e *env) do(tb testing.TB, method, path, secret, body string, headers ...string) *response {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b}
}

// want fails tb unless r has status.
func (r *response) want(tb testing.TB, status int) *response {
	tb.Helper()
	if r.status != status {
		tb.Fatalf("status = %d, want %d; body: %s", r.status, status, r.body)
	}
	return r
}

// decode decodes r's JSON body into a T.
func decode[T any](tb testing.TB, r *response) T {
	tb.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		tb.Fatalf("decode %s: %v", r.body, err)
	}
	return v
}

// apiError is the JSON shape of an error answer.
type apiError struct {
	Error trail.Error `json:"error"`
}

// wantError fails tb unless r is an error with status and code that names
// field in a detail (or in its message, when field has no detail).
func (r *response) wantError(tb testing.TB, status int, code, field string) apiError {
	tb.Helper()
	r.want(tb, status)
	e := decode[apiError](tb, r)
	if e.Error.Code != code {
		tb.Fatalf("error code = %q, want %q; body: %s", e.Error.Code, code, r.body)
	}
	if field == "" {
		return e
	}
	for _, d := range e.Error.Details {
		if d.Field == field {
			return e
		}
	}
	if !strings.Contains(e.Error.Message, field) {
		tb.Fatalf("error names no field %q; body: %s", field, r.body)
	}
	return e
}

type ingestResponse struct {
	IDs []string `json:"ids"`
}

type eventsPage struct {
	Events     []*trail.Event `json:"events"`
	NextCursor *string        `json:"next_cursor"`
}

// ingest posts body with secret and returns the new ids.
func (e *env) ingest(tb testing.TB, secret, body string) []string {
	tb.Helper()
	return decode[ingestResponse](tb, e.do(tb, "POST", "/v1/events", secret, body).want(tb, 201)).IDs
}

// list gets a page of events with query.
func (e *env) list(tb testing.TB, secret, query string) eventsPage {
	tb.Helper()
	return decode[eventsPage](tb, e.do(tb, "GET", "/v1/events?"+query, secret, "").want(tb, 200))
}

// allEvents reads every stored event straight from the store, oldest first.
func (e *env) allEvents(tb testing.TB) []*trail.Event {
	tb.Helper()
	events, err := e.store.StreamEvents(tb.Context(), -1, 100000)
	if err != nil {
		tb.Fatal(err)
	}
	return events
}

const eventFields = " action occurred_at actor targets context metadata version trace_id tenant "

// event renders an event object for POST /v1/events; extra fields are
// added or replace the defaults.
func event(action string, extra ...string) string {
	fields := map[string]string{
		"action":      `"` + action + `"`,
		"occurred_at": `"` + time.Now().UTC().Add(-time.Minute).Format(time.RFC3339Nano) + `"`,
		"actor":       `{"type":"user","id":"u1","name":"Ada"}`,
	}
	for i := 0; i+1 < len(extra); i += 2 {
		fields[extra[i]] = extra[i+1]
	}
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	for _, k := range strings.Fields(eventFields) {
		if v, ok := fields[k]; ok {
			if !first {
				b.WriteByte(',')
			}
			first = false
			b.WriteString(`"` + k + `":` + v)
		}
	}
	for i := 0; i+1 < len(extra); i += 2 {
		if !strings.Contains(eventFields, " "+extra[i]+" ") {
			b.WriteString(`,"` + extra[i] + `":` + extra[i+1])
		}
	}
	b.WriteByte('}')
	return b.String()
}

// batch wraps events in {"events": [...]}.
func batch(events ...string) string {
	return `{"events":[` + strings.Join(events, ",") + `]}`
}

func ids(events []*trail.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.ID
	}
	return out
}
