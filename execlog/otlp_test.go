package execlog_test

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/execlog"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func str(s string) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: s}}
}

// request builds an ExportLogsServiceRequest, the message exporters send.
func request(records ...*logspb.LogRecord) *collogspb.ExportLogsServiceRequest {
	return &collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{
		Resource: &resourcepb.Resource{Attributes: []*commonpb.KeyValue{
			{Key: "service.name", Value: str("billing")}, {Key: "trail.tenant", Value: str("acme")}}},
		ScopeLogs: []*logspb.ScopeLogs{{Scope: &commonpb.InstrumentationScope{Name: "refunds"}, LogRecords: records}},
	}}}
}

var trace = []byte{0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c}

func TestDecodeProtobuf(t *testing.T) {
	req := request(
		&logspb.LogRecord{TimeUnixNano: uint64(now.UnixNano()), SeverityNumber: logspb.SeverityNumber_SEVERITY_NUMBER_ERROR2,
			Body: str("declined"), TraceId: trace, SpanId: []byte{1, 2, 3, 4, 5, 6, 7, 8},
			Attributes: []*commonpb.KeyValue{{Key: "n", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: 7}}}}},
		&logspb.LogRecord{SeverityText: "WARNING", ObservedTimeUnixNano: uint64(now.Add(time.Second).UnixNano()), TraceId: trace,
			Body: &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{
				Values: []*commonpb.KeyValue{{Key: "k", Value: str("v")}}}}}},
		&logspb.LogRecord{Body: str("no trace")},
		&logspb.LogRecord{Body: str("zero trace"), TraceId: make([]byte, 16)},
	)
	body, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := execlog.Decode(body, execlog.ContentProtobuf, "", now)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Records) != 2 || b.Rejected != 2 || !strings.Contains(b.Reason, "trace_id") {
		t.Fatalf("records %d, rejected %d (%q); want 2 and 2", len(b.Records), b.Rejected, b.Reason)
	}
	r0, r1 := b.Records[0], b.Records[1]
	got := []string{r0.TraceID, r0.SpanID, r0.Level, r0.Message, string(r0.Attributes), string(r0.Resource), r0.Tenant,
		r1.Level, r1.Message, r1.Time.Format(time.RFC3339)}
	want := []string{"5b8efff798038103d269b633813fc60c", "0102030405060708", "error", "declined",
		`{"n":7,"otel.scope.name":"refunds"}`, `{"service.name":"billing","trail.tenant":"acme"}`, "acme",
		"warn", `{"k":"v"}`, "2026-11-23T12:00:01Z"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("records:\n%q\nwant\n%q", got, want)
	}
	var resp collogspb.ExportLogsServiceResponse
	if err := proto.Unmarshal(execlog.Response(b, execlog.ContentProtobuf), &resp); err != nil {
		t.Fatal(err)
	}
	if ps := resp.GetPartialSuccess(); ps.GetRejectedLogRecords() != 2 || ps.GetErrorMessage() != b.Reason {
		t.Fatalf("partial success = %v", ps)
	}
}

func TestDecodeJSONGzip(t *testing.T) {
	req := request(&logspb.LogRecord{SeverityNumber: 9, Body: str("ok"), TraceId: trace})
	js, err := protojson.Marshal(req) // base64 ids: rewrite them to hex, as OTLP/JSON has them
	if err != nil {
		t.Fatal(err)
	}
	hexJSON := strings.Replace(string(js), "W47/95gDgQPSabYzgT/GDA==", "5b8efff798038103d269b633813fc60c", 1)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(hexJSON))
	zw.Close()
	b, err := execlog.Decode(gz.Bytes(), execlog.ContentJSON, "gzip", now)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Records) != 1 || b.Records[0].TraceID != "5b8efff798038103d269b633813fc60c" || b.Records[0].Level != trail.LevelInfo {
		t.Fatalf("records = %+v", b.Records)
	}
	if got := string(execlog.Response(b, execlog.ContentJSON)); got != "{}" {
		t.Fatalf("response = %s, want {}", got)
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct{ name, body, media, enc, field string }{
		{"NotProtobuf", "\xff\xff\xff", execlog.ContentProtobuf, "", "body"},
		{"NotJSON", "{", execlog.ContentJSON, "", "body"},
		{"BadHexTrace", `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"zz"}]}]}]}`, execlog.ContentJSON, "", "body"},
		{"NotGzip", "plain", execlog.ContentJSON, "gzip", "body"},
		{"Brotli", "{}", execlog.ContentJSON, "br", "Content-Encoding"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := execlog.Decode([]byte(tc.body), tc.media, tc.enc, now)
			if trail.ErrorCode(err) != trail.EINVALID || !strings.HasPrefix(trail.ErrorMessage(err), tc.field) {
				t.Fatalf("err = %v, want EINVALID naming %s", err, tc.field)
			}
		})
	}
	if _, err := execlog.MediaType("text/plain"); trail.ErrorCode(err) != trail.EINVALID {
		t.Fatalf("text/plain accepted: %v", err)
	}
	if mt, err := execlog.MediaType("application/json; charset=utf-8"); err != nil || mt != execlog.ContentJSON {
		t.Fatalf("MediaType = %q, %v", mt, err)
	}
}

// FuzzDecode checks that no input makes the decoder panic, and that every
// record it keeps is one a store can hold.
func FuzzDecode(f *testing.F) {
	body, _ := proto.Marshal(request(&logspb.LogRecord{Body: str("x"), TraceId: trace}))
	f.Add(body, false)
	f.Add([]byte(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"5b8efff798038103d269b633813fc60c","body":{"stringValue":"a\u0000b"}}]}]}]}`), true)
	f.Fuzz(func(t *testing.T, body []byte, isJSON bool) {
		media := execlog.ContentProtobuf
		if isJSON {
			media = execlog.ContentJSON
		}
		b, err := execlog.Decode(body, media, "", now)
		if err != nil {
			return
		}
		for _, r := range b.Records {
			if r.TraceID == "" || strings.ContainsRune(r.Message, 0) || len(r.Message) > trail.MaxLogMessage {
				t.Fatalf("kept a record no store can hold: %+v", r)
			}
		}
	})
}
