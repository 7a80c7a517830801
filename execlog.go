package trail

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"time"
	"unicode/utf8"
)

// Execution log levels. OTLP severities map onto them.
const (
	LevelTrace = "trace"
	LevelDebug = "debug"
	LevelInfo  = "info"
	LevelWarn  = "warn"
	LevelError = "error"
	LevelFatal = "fatal"
)

// LogLevels lists every level, from the least to the most severe.
var LogLevels = []string{LevelTrace, LevelDebug, LevelInfo, LevelWarn, LevelError, LevelFatal}

// Limits on execution logs.
const (
	MaxLogsPerRequest = 1000
	MaxLogMessage     = 32 << 10 // bytes of one message
	MaxLogAttributes  = 32 << 10 // bytes of one record's attributes JSON
	MaxLogsPage       = 1000     // log records in one answer
)

// LogRecord is one execution log line of a trace: how an audited action
// was carried out. Audit events and logs share the trace id, so the logs of
// an event are the logs of its trace.
type LogRecord struct {
	// ID is assigned by Trail (a UUIDv7).
	ID      string    `json:"id"`
	Tenant  string    `json:"tenant"`
	TraceID string    `json:"trace_id"`
	SpanID  string    `json:"span_id,omitempty"`
	Time    time.Time `json:"time"`
	Level   string    `json:"level"`
	Message string    `json:"message"`
	// Attributes is a JSON object; nil when there are none.
	Attributes json.RawMessage `json:"attributes,omitempty"`
	// Resource is the JSON object of OTLP resource attributes (such as
	// service.name); nil for logs sent to POST /v1/logs.
	Resource   json.RawMessage `json:"resource,omitempty"`
	ReceivedAt time.Time       `json:"received_at"`
}

// LogCursor is the position after the last record of a page of a trace's
// logs, which are ordered by (Time, ID).
type LogCursor struct {
	Time time.Time
	ID   string
}

// LogStore stores execution logs.
type LogStore interface {
	// AppendLogs stores every record in one transaction.
	AppendLogs(ctx context.Context, logs []*LogRecord) error
	// TraceLogs returns up to limit records of tenant's trace traceID after
	// cursor (nil for the first page), ordered by (Time, ID).
	TraceLogs(ctx context.Context, tenant, traceID string, after *LogCursor, limit int) ([]*LogRecord, error)
	// PruneLogs deletes up to limit records whose Time is before t and
	// returns how many it deleted.
	PruneLogs(ctx context.Context, before time.Time, limit int) (int64, error)
}

// EventLogStore is a store of events and their execution logs.
type EventLogStore interface {
	EventStore
	LogStore
}

// EventLogs returns event id (ENOTFOUND when it is outside scope) and one
// page of the execution logs of its trace: what was done, and how. An event
// without a trace id has no logs. The console and GET
// /v1/events/{id}/logs both read logs this way.
func EventLogs(ctx context.Context, s EventLogStore, scope Scope, id string, after *LogCursor, limit int) (*Event, []*LogRecord, error) {
	e, err := s.Event(ctx, scope, id)
	if err != nil {
		return nil, nil, err
	}
	if e.TraceID == "" {
		return e, []*LogRecord{}, nil
	}
	if limit <= 0 || limit > MaxLogsPage {
		limit = MaxLogsPage
	}
	logs, err := s.TraceLogs(ctx, e.Tenant, e.TraceID, after, limit)
	if err != nil {
		return nil, nil, fmt.Errorf("read logs of trace %s: %w", e.TraceID, err)
	}
	return e, logs, nil
}

var logInputType = reflect.TypeFor[LogInput]()

// LogInput is a log record as a client sends it to POST /v1/logs.
type LogInput struct {
	TraceID    string          `json:"trace_id"`
	SpanID     string          `json:"span_id"`
	Time       string          `json:"time"`
	Level      string          `json:"level"`
	Message    string          `json:"message"`
	Attributes json.RawMessage `json:"attributes"`
	Tenant     string          `json:"tenant"`
}

// ParseLogs decodes and validates the body of POST /v1/logs: one record
// object or {"logs": [...]}. Every problem of every record is returned at
// once, and the request is accepted or rejected as a whole.
func ParseLogs(body []byte) ([]*LogInput, error) {
	if len(body) > MaxBodyBytes {
		return nil, Errorf(ETOOLARGE, "body: larger than %d bytes", MaxBodyBytes)
	}
	if !utf8.Valid(body) || hasEscapedNUL(body) || bytes.IndexByte(body, 0) >= 0 {
		return nil, Invalid("body", "must be valid UTF-8 without NUL characters")
	}
	var batch struct {
		Logs []json.RawMessage `json:"logs"`
	}
	raws := []json.RawMessage{body}
	if err := json.Unmarshal(body, &batch); err == nil && batch.Logs != nil {
		raws = batch.Logs
		if field, problem := checkMembers(body, batchType, true); problem != "" {
			return nil, Invalid(field, problem)
		}
	}
	switch {
	case len(raws) == 0:
		return nil, Invalid("logs", "must hold at least one record")
	case len(raws) > MaxLogsPerRequest:
		return nil, Errorf(ETOOLARGE, "logs: more than %d records in one request", MaxLogsPerRequest)
	}
	var p Problems
	ins := make([]*LogInput, len(raws))
	for i, raw := range raws {
		ins[i] = decodeLog(i, raw, &p)
	}
	return ins, p.ErrIn("logs")
}

func decodeLog(i int, raw json.RawMessage, p *Problems) *LogInput {
	if field, problem := checkMembers(raw, logInputType, true); problem != "" {
		p.Add(i, field, problem) // one reading only: no last-wins, no other case
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var in LogInput
	if err := dec.Decode(&in); err != nil {
		p.Add(i, "log", jsonProblem(err, "a JSON object")+" (fields: trace_id, span_id, time, level, message, attributes, tenant)")
		return nil
	}
	in.validate(i, p)
	return &in
}

func (in *LogInput) validate(i int, p *Problems) {
	switch {
	case in.TraceID == "":
		p.Add(i, "trace_id", "required: the trace id that the audit events of this work carry")
	case len(in.TraceID) > MaxTraceIDLen || !printable(in.TraceID):
		p.Add(i, "trace_id", fmt.Sprintf("must be at most %d printable characters", MaxTraceIDLen))
	}
	if len(in.SpanID) > MaxTraceIDLen || !printable(in.SpanID) {
		p.Add(i, "span_id", fmt.Sprintf("must be at most %d printable characters", MaxTraceIDLen))
	}
	if in.Time != "" {
		if _, err := time.Parse(time.RFC3339Nano, in.Time); err != nil {
			p.Add(i, "time", "must be an RFC 3339 timestamp like 2026-11-23T12:00:00Z")
		}
	}
	if in.Level != "" && !slices.Contains(LogLevels, in.Level) {
		p.Add(i, "level", "must be trace, debug, info, warn, error or fatal")
	}
	if len(in.Message) > MaxLogMessage {
		p.Add(i, "message", fmt.Sprintf("longer than %d bytes", MaxLogMessage))
	}
	if len(in.Attributes) > MaxLogAttributes {
		p.Add(i, "attributes", fmt.Sprintf("larger than %d bytes", MaxLogAttributes))
	}
	validateObject("attributes", in.Attributes, false, func(f, pr string) { p.Add(i, f, pr) })
	if in.Tenant != "" && !ValidTenant(in.Tenant) {
		p.Add(i, "tenant", "must be 1 to 64 letters, digits, '.', '_' or '-'")
	}
}

// Record turns a validated input into the record to store for tenant. A
// record without a time or level gets now and info.
func (in *LogInput) Record(tenant string, now time.Time) *LogRecord {
	now = NormalTime(now)
	r := &LogRecord{
		ID: NewID(now), Tenant: tenant, TraceID: in.TraceID, SpanID: in.SpanID, Time: now,
		Level: in.Level, Message: in.Message, Attributes: compactObject(in.Attributes), ReceivedAt: now,
	}
	if t, err := time.Parse(time.RFC3339Nano, in.Time); err == nil {
		r.Time = NormalTime(t)
	}
	if r.Level == "" {
		r.Level = LevelInfo
	}
	return r
}
