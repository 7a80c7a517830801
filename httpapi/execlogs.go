package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/execlog"
)

// The execution log routes take log lines of a trace (Trail's JSON, or
// OTLP/HTTP as OpenTelemetry SDKs send it) and answer the logs of an
// event's trace: what was done, and how.

type logsAccepted struct {
	Accepted int `json:"accepted"`
}

// eventLogs is the answer of GET /v1/events/{id}/logs.
type eventLogs struct {
	EventID    string             `json:"event_id"`
	TraceID    string             `json:"trace_id"`
	Logs       []*trail.LogRecord `json:"logs"`
	NextCursor string             `json:"next_cursor,omitempty"`
}

// handleIngestLogs stores log records sent as JSON, all or nothing.
func (s *Server) handleIngestLogs(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, trail.MaxBodyBytes)
	if err != nil {
		return err
	}
	ins, err := trail.ParseLogs(body)
	if err != nil {
		return err
	}
	records, err := logRecords(apiKey(r), ins, s.now())
	if err != nil {
		return err
	}
	if err := s.store.AppendLogs(r.Context(), records); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, logsAccepted{len(records)})
	return nil
}

// logRecords resolves each input's tenant for key, as for events.
func logRecords(key *trail.APIKey, ins []*trail.LogInput, now time.Time) ([]*trail.LogRecord, error) {
	var p trail.Problems
	out := make([]*trail.LogRecord, len(ins))
	for i, in := range ins {
		tenant, ok := key.WriteTenant(in.Tenant)
		if !ok {
			p.Add(i, "tenant", fmt.Sprintf("this API key writes logs of tenant %q only", key.Tenant))
			continue
		}
		out[i] = in.Record(tenant, now)
	}
	return out, p.ErrIn("logs")
}

// handleOTLPLogs is the OTLP/HTTP logs receiver (protobuf or JSON, gzip
// or not). Records without a trace id, or for a tenant the key may not
// write, are left out and counted in the protocol's partial_success.
func (s *Server) handleOTLPLogs(w http.ResponseWriter, r *http.Request) error {
	mediaType, err := execlog.MediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return errOTLPMediaType
	}
	body, err := readBody(w, r, trail.MaxBodyBytes)
	if err != nil {
		return err
	}
	b, err := execlog.Decode(body, mediaType, r.Header.Get("Content-Encoding"), s.now())
	if err != nil {
		return err
	}
	resolveTenants(apiKey(r), b)
	if len(b.Records) > 0 {
		if err := s.store.AppendLogs(r.Context(), b.Records); err != nil {
			return err
		}
	}
	w.Header().Set("Content-Type", mediaType)
	w.WriteHeader(http.StatusOK)
	w.Write(execlog.Response(b, mediaType))
	return nil
}

// resolveTenants gives each record the tenant key writes it to: a tenant
// key its own; a platform key the trail.tenant resource attribute.
func resolveTenants(key *trail.APIKey, b *execlog.Batch) {
	kept := b.Records[:0]
	for _, rec := range b.Records {
		tenant, ok := key.WriteTenant(rec.Tenant)
		if !ok || (tenant != "" && !trail.ValidTenant(tenant)) {
			b.Rejected++
			if b.Reason == "" {
				b.Reason = fmt.Sprintf("this API key writes logs of tenant %q only", key.Tenant)
			}
			continue
		}
		rec.Tenant = tenant
		kept = append(kept, rec)
	}
	b.Records = kept
}

// handleEventLogs answers the execution logs of an event's trace, oldest
// first, a page at a time.
func (s *Server) handleEventLogs(w http.ResponseWriter, r *http.Request) error {
	limit, err := logsLimit(query(r).Get("limit"))
	if err != nil {
		return err
	}
	after, err := decodeLogCursor(query(r).Get("cursor"))
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if !trail.ValidID(id) {
		return trail.Errorf(trail.ENOTFOUND, "event not found")
	}
	e, logs, err := trail.EventLogs(r.Context(), s.store, apiKey(r).ReadScope(""), id, after, limit)
	if err != nil {
		return err
	}
	resp := eventLogs{EventID: e.ID, TraceID: e.TraceID, Logs: logs}
	if n := len(logs); n > 0 && n == limit {
		resp.NextCursor = encodeLogCursor(logs[n-1])
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// logsLimit reads the limit parameter of a logs page; absent, a full page.
func logsLimit(v string) (int, error) {
	if v == "" {
		return trail.MaxLogsPage, nil
	}
	limit, err := strconv.Atoi(v)
	if err != nil || limit < 1 || limit > trail.MaxLogsPage {
		return 0, trail.Invalid("limit", fmt.Sprintf("must be an integer from 1 to %d", trail.MaxLogsPage))
	}
	return limit, nil
}

func encodeLogCursor(l *trail.LogRecord) string {
	b, _ := json.Marshal([]any{l.Time.UnixMicro(), l.ID})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeLogCursor(s string) (*trail.LogCursor, error) {
	if s == "" {
		return nil, nil
	}
	bad := trail.Invalid("cursor", "not a cursor this server issued")
	b, err := base64.RawURLEncoding.DecodeString(s)
	var v []json.RawMessage
	if err != nil || json.Unmarshal(b, &v) != nil || len(v) != 2 {
		return nil, bad
	}
	var us int64
	var id string
	if json.Unmarshal(v[0], &us) != nil || json.Unmarshal(v[1], &id) != nil || !trail.ValidID(id) {
		return nil, bad
	}
	return &trail.LogCursor{Time: time.UnixMicro(us).UTC(), ID: id}, nil
}

// OTLPHandler returns the handler of a separate OTLP/HTTP port: the
// standard logs path POST /v1/logs, with API key authentication
// (Authorization: Bearer, set through OTEL_EXPORTER_OTLP_HEADERS), so that
// an OpenTelemetry SDK or collector exports to it with default paths. Every
// error answer, an unknown path included, is a google.rpc.Status.
func (s *Server) OTLPHandler() http.Handler {
	const pattern = "POST /v1/logs"
	mux := http.NewServeMux()
	// The query is checked as on the API port's route, which takes no
	// parameters: a stray one is a 400 that names it, never ignored.
	logs := s.checkQuery("POST /v1/otlp/logs", s.serve(s.handleOTLPLogs))
	h := s.observe("otlp "+pattern, s.recoverPanic(otlpAnswers(s.authenticate(trail.ScopeEventsWrite, logs))))
	mux.Handle(pattern, h)
	mux.Handle("/", s.observe("otlp unmatched", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/logs" {
			w.Header().Set("Allow", http.MethodPost)
			writeOTLPError(w, r, http.StatusMethodNotAllowed, &trail.Error{Code: trail.EINVALID,
				Message: "method " + r.Method + " is not allowed here; allowed: POST"})
			return
		}
		msg := "this port serves OTLP/HTTP logs only: POST /v1/logs"
		if strings.HasPrefix(r.URL.Path, "/v1/") {
			msg += " (traces and metrics are not taken)"
		}
		writeOTLPError(w, r, http.StatusNotFound, trail.Errorf(trail.ENOTFOUND, "%s", msg))
	})))
	return mux
}
