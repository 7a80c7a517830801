package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/trace"
)

type eventLogs struct {
	EventID    string             `json:"event_id"`
	TraceID    string             `json:"trace_id"`
	Logs       []*trail.LogRecord `json:"logs"`
	NextCursor string             `json:"next_cursor"`
}

// eventWithTrace ingests an event carrying traceID and returns its id.
func (e *env) eventWithTrace(tb testing.TB, secret, traceID string) string {
	tb.Helper()
	return e.ingest(tb, secret, event("invoice.refunded", "trace_id", `"`+traceID+`"`))[0]
}

func (e *env) logsOf(tb testing.TB, secret, id, query string) eventLogs {
	tb.Helper()
	return decode[eventLogs](tb, e.do(tb, "GET", "/v1/events/"+id+"/logs"+query, secret, "").want(tb, 200))
}

func messages(logs []*trail.LogRecord) string {
	var out []string
	for _, l := range logs {
		out = append(out, l.Level+":"+l.Message)
	}
	return strings.Join(out, " | ")
}

func TestLogsJSON(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		acme := e.newKey(t, "acme", false, trail.ScopeEventsWrite, trail.ScopeEventsRead)
		globex := e.newKey(t, "globex", false, trail.ScopeEventsWrite, trail.ScopeEventsRead)
		e.do(t, "POST", "/v1/logs", acme, `{"logs":[{"trace_id":"tr-1","message":"ok"},{"message":"no trace"}]}`).
			wantError(t, 400, trail.EINVALID, "trace_id")
		e.do(t, "POST", "/v1/logs", acme, `{"trace_id":"tr-1","level":"loud"}`).wantError(t, 400, trail.EINVALID, "level")
		e.do(t, "POST", "/v1/logs", acme, `{"trace_id":"tr-1","tenant":"globex"}`).wantError(t, 400, trail.EINVALID, "tenant")
		id := e.eventWithTrace(t, acme, "tr-1")
		if got := e.logsOf(t, acme, id, ""); len(got.Logs) != 0 || got.TraceID != "tr-1" {
			t.Fatalf("logs before any were sent = %+v", got)
		}
		e.do(t, "POST", "/v1/logs", acme, `{"logs":[
			{"trace_id":"tr-1","time":"2026-01-01T10:00:02Z","level":"warn","message":"refund over limit","attributes":{"amount":120}},
			{"trace_id":"tr-1","time":"2026-01-01T10:00:01Z","message":"refund started"},
			{"trace_id":"tr-1","time":"2026-01-01T10:00:03Z","level":"error","message":"gateway timeout"}]}`).want(t, 201)
		e.do(t, "POST", "/v1/logs", globex, `{"trace_id":"tr-1","message":"another tenant's trace"}`).want(t, 201)
		got := e.logsOf(t, acme, id, "?limit=2")
		if m := messages(got.Logs); m != "info:refund started | warn:refund over limit" || got.NextCursor == "" {
			t.Fatalf("first page = %q (next %q)", m, got.NextCursor)
		}
		if string(got.Logs[1].Attributes) != `{"amount":120}` {
			t.Fatalf("attributes = %s", got.Logs[1].Attributes)
		}
		rest := e.logsOf(t, acme, id, "?limit=2&cursor="+got.NextCursor)
		if m := messages(rest.Logs); m != "error:gateway timeout" {
			t.Fatalf("second page = %q", m)
		}
		e.do(t, "GET", "/v1/events/"+id+"/logs", globex, "").wantError(t, 404, trail.ENOTFOUND, "")
		e.do(t, "GET", "/v1/events/"+id+"/logs?cursor=zz", acme, "").wantError(t, 400, trail.EINVALID, "cursor")
	})
}

// TestLogsOfEventWithoutTrace checks that an event sent without a trace id
// has its own id as trace id, so that logs posted with trace_id=<event id>
// are its logs.
func TestLogsOfEventWithoutTrace(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		acme := e.newKey(t, "acme", false, trail.ScopeEventsWrite, trail.ScopeEventsRead)
		id := e.ingest(t, acme, event("invoice.refunded"))[0]
		if got := decode[trail.Event](t, e.do(t, "GET", "/v1/events/"+id, acme, "").want(t, 200)); got.TraceID != id {
			t.Fatalf("trace_id = %q, want the event's id %q", got.TraceID, id)
		}
		e.do(t, "POST", "/v1/logs", acme, `{"trace_id":"`+id+`","message":"refund started"}`).want(t, 201)
		if got := e.logsOf(t, acme, id, ""); messages(got.Logs) != "info:refund started" || got.TraceID != id {
			t.Fatalf("logs = %+v", got)
		}
		if page := e.list(t, acme, "trace_id="+id); len(page.Events) != 1 || page.Events[0].ID != id {
			t.Fatalf("events of trace %s = %+v", id, page.Events)
		}
	})
}

// otlpJSON is an OTLP/JSON logs request: ids in hex, as the spec says.
const otlpJSON = `{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"billing"}}]},
 "scopeLogs":[{"scope":{"name":"refunds"},"logRecords":[
  {"timeUnixNano":"1767261601000000000","severityNumber":13,"body":{"stringValue":"card declined"},
   "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
   "attributes":[{"key":"attempt","value":{"intValue":"2"}}]},
  {"timeUnixNano":"1767261602000000000","body":{"stringValue":"no trace here"}}]}]}]}`

func TestOTLPJSONAndGzip(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		acme := e.newKey(t, "acme", false, trail.ScopeEventsWrite, trail.ScopeEventsRead)
		id := e.eventWithTrace(t, acme, "5b8efff798038103d269b633813fc60c")
		resp := e.do(t, "POST", "/v1/otlp/logs", acme, otlpJSON, "Content-Type", "application/json").want(t, 200)
		if !strings.Contains(string(resp.body), `"rejectedLogRecords":"1"`) || resp.header.Get("Content-Type") != "application/json" {
			t.Fatalf("OTLP answer %s (%s), want a partial success rejecting 1", resp.body, resp.header.Get("Content-Type"))
		}
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write([]byte(otlpJSON))
		zw.Close()
		e.do(t, "POST", "/v1/otlp/logs", acme, gz.String(), "Content-Type", "application/json", "Content-Encoding", "gzip").want(t, 200)
		got := e.logsOf(t, acme, id, "").Logs
		if len(got) != 2 || got[0].Message != "card declined" || got[0].Level != trail.LevelWarn || got[0].SpanID != "eee19b7ec3c1b174" {
			t.Fatalf("logs = %q", messages(got))
		}
		if !strings.Contains(string(got[0].Resource), `"service.name":"billing"`) || !strings.Contains(string(got[0].Attributes), `"attempt":2`) {
			t.Fatalf("resource %s, attributes %s", got[0].Resource, got[0].Attributes)
		}
		// Failures are google.rpc.Status messages (TestOTLPErrorsAreRPCStatus).
		e.do(t, "POST", "/v1/otlp/logs", acme, otlpJSON, "Content-Type", "text/plain").want(t, 415)
		e.do(t, "POST", "/v1/otlp/logs", acme, "{not otlp", "Content-Type", "application/json").want(t, 400)
	})
}

// TestOTelSDKExporter sends logs with the OpenTelemetry Go SDK's OTLP/HTTP
// log exporter, as an instrumented application would: to the separate
// OTLP port's standard path and to /v1/otlp/logs of the API port.
func TestOTelSDKExporter(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		acme := e.newKey(t, "acme", false, trail.ScopeEventsWrite, trail.ScopeEventsRead)
		otlpPort := httptest.NewServer(e.api.OTLPHandler())
		t.Cleanup(otlpPort.Close)
		traceID := trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
		id := e.eventWithTrace(t, acme, traceID.String())
		exportWithSDK(t, otlpPort.URL, "/v1/logs", acme, traceID, "from the OTLP port")
		exportWithSDK(t, e.srv.URL, "/v1/otlp/logs", acme, traceID, "from the API port")
		got := e.logsOf(t, acme, id, "").Logs
		if m := messages(got); m != "error:from the OTLP port | error:from the API port" {
			t.Fatalf("logs of the event = %q", m)
		}
		if !strings.Contains(string(got[0].Attributes), `"order.id":"o-17"`) {
			t.Fatalf("attributes = %s", got[0].Attributes)
		}
	})
}

func exportWithSDK(t *testing.T, base, path, secret string, traceID trace.TraceID, msg string) {
	t.Helper()
	ctx := context.Background()
	exp, err := otlploghttp.New(ctx, otlploghttp.WithEndpointURL(base+path),
		otlploghttp.WithHeaders(map[string]string{"Authorization": "Bearer " + secret}),
		otlploghttp.WithRetry(otlploghttp.RetryConfig{Enabled: false}))
	if err != nil {
		t.Fatal(err)
	}
	provider := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)))
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: traceID, SpanID: trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8},
		TraceFlags: trace.FlagsSampled})
	var rec otellog.Record
	rec.SetTimestamp(time.Now())
	rec.SetSeverity(otellog.SeverityError)
	rec.SetBody(attribute.StringValue(msg))
	rec.AddAttributes(attribute.String("order.id", "o-17"))
	provider.Logger("trail-test").Emit(trace.ContextWithSpanContext(ctx, sc), rec)
	if err := provider.Shutdown(ctx); err != nil {
		t.Fatalf("export to %s%s: %v", base, path, err)
	}
}
