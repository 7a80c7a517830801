package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/httpapi"
	"github.com/trailhq/trail/internal/teststore"
)

func TestHealth(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		e.do(t, "GET", "/healthz", "", "").want(t, 200)
		e.do(t, "GET", "/readyz", "", "").want(t, 200)
		s.Close()
		resp := e.do(t, "GET", "/readyz", "", "")
		resp.wantError(t, 503, trail.EUNAVAILABLE, "")
		if resp.header.Get("Retry-After") == "" {
			t.Fatal("503 without Retry-After")
		}
		e.do(t, "GET", "/healthz", "", "").want(t, 200)
	})
}

// metricsToken is the metrics token of TestMetrics.
const metricsToken = "0123456789abcdef0123456789abcdef"

func TestMetrics(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s, func(c *httpapi.Config) { c.MetricsToken = metricsToken })
		writer := e.newKey(t, "acme", false, trail.ScopeEventsWrite)
		e.ingest(t, writer, batch(event("a.b"), event("a.c"), event("a.d")))
		e.ingest(t, writer, event("a.e"))
		e.do(t, "POST", "/v1/events", writer, "{").want(t, 400)
		e.do(t, "GET", "/nowhere", "", "").want(t, 404)

		body := string(e.do(t, "GET", "/metrics", metricsToken, "").want(t, 200).body)
		for _, want := range []string{
			`trail_http_requests_total{route="POST /v1/events",status="201"} 2`,
			`trail_http_requests_total{route="POST /v1/events",status="400"} 1`,
			`trail_http_requests_total{route="unmatched",status="404"} 1`,
			`trail_http_request_duration_seconds_count{route="POST /v1/events",status="201"} 2`,
			`trail_events_ingested_total 4`,
			`trail_commit_batch_events_sum 4`,
			`trail_commit_duration_seconds_count`,
			`go_goroutines`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("metrics lack %q", want)
			}
		}
		if t.Failed() {
			t.Logf("metrics:\n%s", body)
		}
	})
}

// TestMetricsGuarded checks that GET /metrics on the API's listener, whose
// labels name tenants and forwarders, answers 404 without the metrics
// token, and always when no token is configured.
func TestMetricsGuarded(t *testing.T) {
	s := teststore.SQLite(t)
	t.Run("NoToken", func(t *testing.T) {
		e := newEnv(t, s)
		for _, secret := range []string{"", e.platform, "anything-at-all-0123456789"} {
			e.do(t, "GET", "/metrics", secret, "").wantError(t, 404, trail.ENOTFOUND, "")
		}
	})
	t.Run("Token", func(t *testing.T) {
		e := newEnv(t, s, func(c *httpapi.Config) { c.MetricsToken = metricsToken })
		for _, h := range []string{"", "Bearer ", "Bearer " + metricsToken[1:], "Bearer " + metricsToken + "x",
			"bearer " + metricsToken, "Basic " + metricsToken, metricsToken} {
			resp := e.do(t, "GET", "/metrics", "", "", "Authorization", h)
			resp.wantError(t, 404, trail.ENOTFOUND, "")
			if strings.Contains(string(resp.body), "trail_") {
				t.Fatalf("Authorization %q: metrics leaked", h)
			}
		}
		e.do(t, "GET", "/metrics", metricsToken, "").want(t, 200)
	})
	t.Run("Handler", func(t *testing.T) {
		e := newEnv(t, s)
		srv := httptest.NewServer(e.api.MetricsHandler())
		defer srv.Close()
		resp, err := http.Get(srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), "go_goroutines") {
			t.Fatalf("MetricsHandler: status %d, want 200 with metrics", resp.StatusCode)
		}
	})
}

// TestOpenAPIMatchesRoutes checks that the document lists exactly the
// routes the server serves, so neither can drift from the other.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := newEnv(t, teststore.SQLite(t)) // stores play no part here
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	resp := e.do(t, "GET", "/openapi.json", "", "").want(t, 200)
	if err := json.Unmarshal(resp.body, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Fatalf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
	var got []string
	for path, ops := range doc.Paths {
		for method := range ops {
			if method != "parameters" && method != "summary" && method != "description" {
				got = append(got, strings.ToUpper(method)+" "+path)
			}
		}
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(e.api.Routes()))
	if !slices.Equal(got, want) {
		t.Fatalf("OpenAPI operations:\n%v\nroute table:\n%v", got, want)
	}
	if !bytes.Equal(resp.body[:len(resp.body)-1], httpapi.OpenAPI()) {
		t.Fatal("/openapi.json differs from httpapi.OpenAPI()")
	}
}

func TestNoRoute(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		e.do(t, "GET", "/v2/events", "", "").wantError(t, 404, trail.ENOTFOUND, "")
		resp := e.do(t, "PUT", "/v1/events", e.platform, "")
		resp.wantError(t, 405, trail.EINVALID, "")
		if allow := resp.header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") {
			t.Fatalf("Allow = %q", allow)
		}
	})
}

// panicStore is a real store whose Events panics, to check that a bug in
// a handler's path becomes a logged 500 and the server keeps serving.
type panicStore struct{ trail.Store }

func (panicStore) Events(context.Context, *trail.Query) (*trail.Page, error) { panic("boom") }

func TestPanicRecovered(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		var logs bytes.Buffer
		e := newEnv(t, panicStore{s}, func(c *httpapi.Config) {
			c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		})
		got := e.do(t, "GET", "/v1/events", e.platform, "").wantError(t, 500, trail.EINTERNAL, "")
		if got.Error.Message != "internal error" {
			t.Fatalf("500 message = %q, want a generic one", got.Error.Message)
		}
		if !strings.Contains(logs.String(), "boom") {
			t.Fatalf("panic not logged:\n%s", logs.String())
		}
		e.do(t, "GET", "/healthz", "", "").want(t, 200)
	})
}

func TestClientAddress(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		for _, trust := range []bool{false, true} {
			e := newEnv(t, s, func(c *httpapi.Config) { c.TrustProxyHeaders = trust })
			e.do(t, "GET", "/v1/events/export?format=csv", e.platform, "",
				"X-Forwarded-For", "203.0.113.9, 198.51.100.7").want(t, http.StatusOK)
			got := e.list(t, e.platform, "action=export.downloaded&limit=1").Events[0].Context.IP
			want := map[bool]string{false: "127.0.0.1", true: "198.51.100.7"}[trust]
			if got != want {
				t.Errorf("TrustProxyHeaders=%v: recorded ip %q, want %q", trust, got, want)
			}
		}
	})
}
