package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/teststore"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// rpcStatus decodes an OTLP failure answer: a google.rpc.Status encoded as
// the request was (protobuf or JSON), with Trail's error code in an
// ErrorInfo and the fields at fault in a BadRequest.
type rpcStatus struct {
	code   code.Code
	msg    string
	reason string
	fields []string
}

func decodeStatus(tb testing.TB, r *response, wantType string) rpcStatus {
	tb.Helper()
	if ct := r.header.Get("Content-Type"); ct != wantType {
		tb.Fatalf("Content-Type = %q, want %q; body %q", ct, wantType, r.body)
	}
	st := &statuspb.Status{}
	var err error
	if wantType == "application/json" {
		err = protojson.Unmarshal(r.body, st)
	} else {
		err = proto.Unmarshal(r.body, st)
	}
	if err != nil {
		tb.Fatalf("body %q is not a google.rpc.Status: %v", r.body, err)
	}
	got := rpcStatus{code: code.Code(st.GetCode()), msg: st.GetMessage()}
	for _, d := range st.GetDetails() {
		m, err := d.UnmarshalNew()
		if err != nil {
			tb.Fatalf("detail %s: %v", d.GetTypeUrl(), err)
		}
		switch m := m.(type) {
		case *errdetails.ErrorInfo:
			got.reason = m.GetReason()
		case *errdetails.BadRequest:
			for _, v := range m.GetFieldViolations() {
				got.fields = append(got.fields, v.GetField())
			}
		}
	}
	return got
}

// TestOTLPErrorsAreRPCStatus checks every kind of OTLP failure, on the API
// port and on the separate OTLP port, against the OTLP/HTTP specification:
// the body is a google.rpc.Status in the request's encoding (protobuf by
// default), the status code says whether to retry.
func TestOTLPErrorsAreRPCStatus(t *testing.T) {
	e := newEnv(t, teststore.SQLite(t))
	acme := e.newKey(t, "acme", false, trail.ScopeEventsWrite)
	reader := e.newKey(t, "acme", false, trail.ScopeEventsRead)
	otlpPort := httptest.NewServer(e.api.OTLPHandler())
	t.Cleanup(otlpPort.Close)
	const pb, js = "application/x-protobuf", "application/json"
	tests := []struct {
		name, base, method, path, secret, body, contentType string
		status                                              int
		wantType                                            string
		code                                                code.Code
		reason, field                                       string
	}{
		{"NoKeyProtobuf", e.srv.URL, "POST", "/v1/otlp/logs", "", "", pb, 401, pb, code.Code_UNAUTHENTICATED, trail.EUNAUTHORIZED, ""},
		{"NoKeyJSON", e.srv.URL, "POST", "/v1/otlp/logs", "", "{}", js, 401, js, code.Code_UNAUTHENTICATED, trail.EUNAUTHORIZED, ""},
		{"BadKeyOTLPPort", otlpPort.URL, "POST", "/v1/logs", "trail_k_x_y", "", pb, 401, pb, code.Code_UNAUTHENTICATED, trail.EUNAUTHORIZED, ""},
		{"NoScope", e.srv.URL, "POST", "/v1/otlp/logs", reader, "", pb, 403, pb, code.Code_PERMISSION_DENIED, trail.EFORBIDDEN, ""},
		{"BadProtobuf", e.srv.URL, "POST", "/v1/otlp/logs", acme, "\xff\xff\xff", pb, 400, pb, code.Code_INVALID_ARGUMENT, trail.EINVALID, "body"},
		{"BadJSON", otlpPort.URL, "POST", "/v1/logs", acme, "{not otlp", js, 400, js, code.Code_INVALID_ARGUMENT, trail.EINVALID, "body"},
		{"WrongContentType", e.srv.URL, "POST", "/v1/otlp/logs", acme, otlpJSON, "text/plain", 415, pb, code.Code_INVALID_ARGUMENT, trail.EINVALID, "Content-Type"},
		{"TooLarge", otlpPort.URL, "POST", "/v1/logs", acme, strings.Repeat("x", trail.MaxBodyBytes+1), pb, 413, pb, code.Code_RESOURCE_EXHAUSTED, trail.ETOOLARGE, ""},
		{"Traces", otlpPort.URL, "POST", "/v1/traces", acme, "", pb, 404, pb, code.Code_NOT_FOUND, trail.ENOTFOUND, ""},
		{"GetLogs", otlpPort.URL, "GET", "/v1/logs", acme, "", js, 405, js, code.Code_UNIMPLEMENTED, trail.EINVALID, ""},
		// The OTLP port parses its query as strictly as every API route.
		{"QueryOTLPPort", otlpPort.URL, "POST", "/v1/logs?x=1;", acme, "{}", js, 400, js, code.Code_INVALID_ARGUMENT, trail.EINVALID, "x"},
		{"UnknownParamOTLPPort", otlpPort.URL, "POST", "/v1/logs?tenant=globex", acme, "{}", js, 400, js, code.Code_INVALID_ARGUMENT, trail.EINVALID, "tenant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := doURL(t, tt.method, tt.base+tt.path, tt.secret, tt.body, "Content-Type", tt.contentType).want(t, tt.status)
			got := decodeStatus(t, r, tt.wantType)
			if got.code != tt.code || got.reason != tt.reason || got.msg == "" {
				t.Errorf("status = %+v, want code %v, reason %q", got, tt.code, tt.reason)
			}
			if tt.field != "" && (len(got.fields) == 0 || got.fields[0] != tt.field) {
				t.Errorf("field violations = %q, want %q", got.fields, tt.field)
			}
			if tt.status == 405 && r.header.Get("Allow") != "POST" {
				t.Errorf("Allow = %q", r.header.Get("Allow"))
			}
		})
	}
}

// unavailableLogs is a store whose execution log table is down: a fault no
// real store can be brought into on demand.
type unavailableLogs struct{ trail.Store }

func (unavailableLogs) AppendLogs(context.Context, []*trail.LogRecord) error {
	return trail.Errorf(trail.EUNAVAILABLE, "database unavailable")
}

func (unavailableLogs) TraceLogs(context.Context, string, string, *trail.LogCursor, int) ([]*trail.LogRecord, error) {
	return nil, trail.Errorf(trail.EUNAVAILABLE, "database unavailable")
}

func (unavailableLogs) PruneLogs(context.Context, time.Time, int) (int64, error) {
	return 0, trail.Errorf(trail.EUNAVAILABLE, "database unavailable")
}

// TestOTLPUnavailableIsRetryable checks that a store outage answers 503
// with Retry-After and an UNAVAILABLE status, which the OpenTelemetry SDK
// exporter treats as retryable; a bad key is final.
func TestOTLPUnavailableIsRetryable(t *testing.T) {
	e := newEnv(t, unavailableLogs{teststore.SQLite(t)})
	acme := e.newKey(t, "acme", false, trail.ScopeEventsWrite)
	r := e.do(t, "POST", "/v1/otlp/logs", acme, otlpJSON, "Content-Type", "application/json").want(t, 503)
	if got := decodeStatus(t, r, "application/json"); got.code != code.Code_UNAVAILABLE || got.reason != trail.EUNAVAILABLE {
		t.Fatalf("status = %+v", got)
	}
	if r.header.Get("Retry-After") == "" {
		t.Fatal("503 without Retry-After")
	}
	traceID := trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	err := sdkExport(t, e.srv.URL+"/v1/otlp/logs", acme, traceID)
	if err == nil || !strings.Contains(err.Error(), "retry-able") {
		t.Fatalf("SDK export to an unavailable store: %v, want a retryable failure", err)
	}
	err = sdkExport(t, e.srv.URL+"/v1/otlp/logs", "trail_k_nokey_secret", traceID)
	if err == nil || strings.Contains(err.Error(), "retry-able") || !strings.Contains(err.Error(), "401") {
		t.Fatalf("SDK export with a bad key: %v, want a final 401", err)
	}
}

// sdkExport sends one record with the OpenTelemetry SDK's OTLP/HTTP
// exporter, retries off, and returns the exporter's error.
func sdkExport(t *testing.T, url, secret string, traceID trace.TraceID) error {
	t.Helper()
	ctx := t.Context()
	exp, err := otlploghttp.New(ctx, otlploghttp.WithEndpointURL(url),
		otlploghttp.WithHeaders(map[string]string{"Authorization": "Bearer " + secret}),
		otlploghttp.WithRetry(otlploghttp.RetryConfig{Enabled: false}))
	if err != nil {
		t.Fatal(err)
	}
	defer exp.Shutdown(ctx)
	var rec sdklog.Record
	rec.SetTraceID(traceID)
	rec.SetBody(attribute.StringValue("refund failed"))
	return exp.Export(ctx, []sdklog.Record{rec})
}

// doURL sends a request to any URL (e.do's, for another server).
func doURL(tb testing.TB, method, url, secret, body string, headers ...string) *response {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), method, url, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
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
