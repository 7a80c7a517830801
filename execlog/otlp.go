// Package execlog turns execution logs into trail.LogRecords: the OTLP/HTTP
// logs protocol (protobuf and JSON, as OpenTelemetry SDKs and collectors
// send it) is decoded here, so that instrumented applications send their
// logs to Trail directly, linked to audit events by trace id.
package execlog

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"time"

	"github.com/trailhq/trail"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// OTLP content types.
const (
	ContentProtobuf = "application/x-protobuf"
	ContentJSON     = "application/json"
)

// TenantAttribute is the resource attribute that names the tenant of the
// logs sent with a platform API key.
const TenantAttribute = "trail.tenant"

// MaxOTLPBytes bounds an OTLP request body after decompression.
const MaxOTLPBytes = trail.MaxBodyBytes

// Batch is a decoded OTLP logs request.
type Batch struct {
	// Records are the records that can be stored: those with a trace id
	// and within Trail's limits. Each one's Tenant is the resource's
	// trail.tenant attribute, "" when absent; the caller resolves it.
	Records []*trail.LogRecord
	// Rejected counts the records left out, and Reason says why, for the
	// partial_success answer of the protocol.
	Rejected int
	Reason   string
}

// MediaType returns the OTLP encoding named by a Content-Type header, or
// an EINVALID error for any other type.
func MediaType(contentType string) (string, error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || (mt != ContentProtobuf && mt != ContentJSON) {
		return "", trail.Invalid("Content-Type", "must be application/x-protobuf or application/json (OTLP/HTTP)")
	}
	return mt, nil
}

// Decode reads an OTLP ExportLogsServiceRequest encoded as mediaType
// (ContentProtobuf or ContentJSON), gzip-compressed when encoding is
// "gzip". now is the received time of every record.
func Decode(body []byte, mediaType, encoding string, now time.Time) (*Batch, error) {
	body, err := decompress(body, encoding)
	if err != nil {
		return nil, err
	}
	var req logspb.LogsData // the same message as ExportLogsServiceRequest
	if mediaType == ContentJSON {
		err = decodeJSON(body, &req)
	} else {
		err = proto.Unmarshal(body, &req)
	}
	if err != nil {
		return nil, trail.Invalid("body", "not an OTLP logs request: "+err.Error())
	}
	b := &Batch{Records: []*trail.LogRecord{}}
	now = trail.NormalTime(now)
	for _, rl := range req.GetResourceLogs() {
		resource := attrMap(rl.GetResource().GetAttributes())
		for _, sl := range rl.GetScopeLogs() {
			for _, lr := range sl.GetLogRecords() {
				b.add(lr, resource, sl.GetScope().GetName(), now)
			}
		}
	}
	return b, nil
}

func decompress(body []byte, encoding string) ([]byte, error) {
	switch strings.ToLower(encoding) {
	case "", "identity":
		return body, nil
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, trail.Invalid("body", "not valid gzip")
		}
		out, err := io.ReadAll(io.LimitReader(zr, MaxOTLPBytes+1))
		switch {
		case err != nil:
			return nil, trail.Invalid("body", "not valid gzip")
		case len(out) > MaxOTLPBytes:
			return nil, trail.Errorf(trail.ETOOLARGE, "body: larger than %d bytes decompressed", MaxOTLPBytes)
		}
		return out, nil
	}
	return nil, trail.Invalid("Content-Encoding", "must be gzip or absent")
}

// decodeJSON decodes OTLP/JSON, whose trace and span ids are hex strings
// where protojson expects base64: they are rewritten first.
func decodeJSON(body []byte, req *logspb.LogsData) error {
	var doc any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return err
	}
	if err := hexToBase64(doc); err != nil {
		return err
	}
	fixed, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	return protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(fixed, req)
}

func hexToBase64(v any) error {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			s, isString := x.(string)
			if isString && (k == "traceId" || k == "spanId" || k == "trace_id" || k == "span_id") {
				b, err := hex.DecodeString(s)
				if err != nil {
					return fmt.Errorf("%s: not a hex string", k)
				}
				v[k] = base64.StdEncoding.EncodeToString(b)
				continue
			}
			if err := hexToBase64(x); err != nil {
				return err
			}
		}
	case []any:
		for _, x := range v {
			if err := hexToBase64(x); err != nil {
				return err
			}
		}
	}
	return nil
}

// add turns one OTLP record into a trail record, or counts it rejected.
func (b *Batch) add(lr *logspb.LogRecord, resource map[string]any, scope string, now time.Time) {
	r, err := record(lr, resource, scope, now)
	if err != nil {
		b.Rejected++
		if b.Reason == "" {
			b.Reason = err.Error()
		}
		return
	}
	b.Records = append(b.Records, r)
}

var errNoTrace = errors.New("log records without a trace_id are not stored: Trail links logs to audit events by trace")

func record(lr *logspb.LogRecord, resource map[string]any, scope string, now time.Time) (*trail.LogRecord, error) {
	tid := lr.GetTraceId()
	if len(tid) == 0 || bytes.Count(tid, []byte{0}) == len(tid) {
		return nil, errNoTrace
	}
	attrs := attrMap(lr.GetAttributes())
	if scope != "" {
		attrs["otel.scope.name"] = scope
	}
	r := &trail.LogRecord{
		ID: trail.NewID(now), TraceID: hex.EncodeToString(tid), SpanID: hex.EncodeToString(lr.GetSpanId()),
		Time: recordTime(lr, now), Level: level(lr), ReceivedAt: now,
		// No store keeps NUL in text (PostgreSQL cannot).
		Message: strings.ReplaceAll(message(lr.GetBody()), "\x00", "\uFFFD"),
	}
	if tenant, ok := resource[TenantAttribute].(string); ok {
		r.Tenant = tenant
	}
	var err error
	if r.Attributes, err = objectJSON(attrs); err != nil {
		return nil, err
	}
	if r.Resource, err = objectJSON(resource); err != nil {
		return nil, err
	}
	switch {
	case len(r.Message) > trail.MaxLogMessage:
		return nil, fmt.Errorf("a log body is longer than %d bytes", trail.MaxLogMessage)
	case len(r.Attributes) > trail.MaxLogAttributes:
		return nil, fmt.Errorf("a record's attributes are larger than %d bytes", trail.MaxLogAttributes)
	case len(r.TraceID) > trail.MaxTraceIDLen || len(r.SpanID) > trail.MaxTraceIDLen:
		return nil, errors.New("a trace or span id is too long")
	case bytes.Contains(r.Attributes, []byte(`\u0000`)) || bytes.Contains(r.Resource, []byte(`\u0000`)):
		return nil, errors.New("an attribute holds a NUL character")
	}
	return r, nil
}

func recordTime(lr *logspb.LogRecord, now time.Time) time.Time {
	ns := lr.GetTimeUnixNano()
	if ns == 0 {
		ns = lr.GetObservedTimeUnixNano()
	}
	if ns == 0 {
		return now
	}
	return trail.NormalTime(time.Unix(0, int64(ns)))
}

// level maps a record's severity to a Trail level: its text when that
// names a level, else its number (1-4 trace ... 21-24 fatal), else info.
func level(lr *logspb.LogRecord) string {
	switch t := strings.ToLower(lr.GetSeverityText()); t {
	case "trace", "debug", "info", "error", "fatal":
		return t
	case "warn", "warning":
		return trail.LevelWarn
	}
	n := int(lr.GetSeverityNumber())
	if n < 1 || n > 24 {
		return trail.LevelInfo
	}
	return trail.LogLevels[(n-1)/4]
}

// message is the record's body: a string as it is, anything else as JSON.
func message(v *commonpb.AnyValue) string {
	if v == nil {
		return ""
	}
	if s, ok := v.GetValue().(*commonpb.AnyValue_StringValue); ok {
		return s.StringValue
	}
	b, _ := json.Marshal(anyValue(v))
	return string(b)
}

func attrMap(kvs []*commonpb.KeyValue) map[string]any {
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		m[kv.GetKey()] = anyValue(kv.GetValue())
	}
	return m
}

// anyValue converts an OTLP value to its plain JSON counterpart.
func anyValue(v *commonpb.AnyValue) any {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_BoolValue:
		return x.BoolValue
	case *commonpb.AnyValue_IntValue:
		return x.IntValue
	case *commonpb.AnyValue_DoubleValue:
		return x.DoubleValue
	case *commonpb.AnyValue_BytesValue:
		return base64.StdEncoding.EncodeToString(x.BytesValue)
	case *commonpb.AnyValue_ArrayValue:
		out := make([]any, 0, len(x.ArrayValue.GetValues()))
		for _, e := range x.ArrayValue.GetValues() {
			out = append(out, anyValue(e))
		}
		return out
	case *commonpb.AnyValue_KvlistValue:
		return attrMap(x.KvlistValue.GetValues())
	}
	return nil
}

// objectJSON encodes m, or nil when it is empty. Doubles that JSON cannot
// hold (NaN, infinities) make the record invalid.
func objectJSON(m map[string]any) (json.RawMessage, error) {
	if len(m) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("an attribute cannot be stored as JSON: %v", err)
	}
	return b, nil
}

// Response encodes the ExportLogsServiceResponse for b in mediaType: empty
// on full success, with partial_success when records were rejected.
func Response(b *Batch, mediaType string) []byte {
	if mediaType == ContentJSON {
		if b.Rejected == 0 {
			return []byte("{}")
		}
		out, _ := json.Marshal(map[string]any{"partialSuccess": map[string]any{
			"rejectedLogRecords": fmt.Sprint(b.Rejected), "errorMessage": b.Reason}})
		return out
	}
	if b.Rejected == 0 {
		return []byte{}
	}
	// ExportLogsPartialSuccess: rejected_log_records = 1, error_message = 2.
	var ps []byte
	ps = protowire.AppendTag(ps, 1, protowire.VarintType)
	ps = protowire.AppendVarint(ps, uint64(b.Rejected))
	ps = protowire.AppendTag(ps, 2, protowire.BytesType)
	ps = protowire.AppendString(ps, b.Reason)
	// ExportLogsServiceResponse: partial_success = 1.
	out := protowire.AppendTag(nil, 1, protowire.BytesType)
	return protowire.AppendBytes(out, ps)
}
