package httpapi

import (
	"bytes"
	"fmt"
	"net/http"

	"github.com/trailhq/trail"
)

// auditedReads are the routes whose reads Config.AuditReads records, with
// the action each records.
var auditedReads = map[string]string{
	"GET /v1/events/{id}":                trail.ActionEventViewed,
	"GET /v1/targets/{type}/{id}/events": trail.ActionEntityViewed,
	"GET /v1/events":                     trail.ActionEventsSearched,
}

// auditRead records a successful read of the audit log as action, in the
// calling key's log, before the answer leaves: the answer is held until
// the record is durable, and a read that cannot be recorded is answered
// with an error instead. A listing without filters is not recorded.
func (s *Server) auditRead(action string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		filters := trail.SearchFilters(r.URL.Query())
		if action == trail.ActionEventsSearched && len(filters) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		held := &heldResponse{header: w.Header()}
		next.ServeHTTP(held, r)
		if held.status == 0 || held.status == http.StatusOK {
			var targets []trail.Target
			switch action {
			case trail.ActionEventViewed:
				targets = []trail.Target{{Type: "event", ID: r.PathValue("id")}}
			case trail.ActionEntityViewed:
				targets = []trail.Target{{Type: r.PathValue("type"), ID: r.PathValue("id")}}
			}
			meta := map[string]any{"source": "api"}
			if len(filters) > 0 {
				meta["filters"] = filters
			}
			if err := s.record(r, apiKey(r).Tenant, action, meta, targets...); err != nil {
				s.error(w, r, fmt.Errorf("record %s: %w", action, err))
				return
			}
		}
		held.send(w)
	})
}

// heldResponse keeps a handler's status and body until send; headers go
// straight to the real writer's.
type heldResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (h *heldResponse) Header() http.Header { return h.header }

func (h *heldResponse) WriteHeader(code int) {
	if h.status == 0 {
		h.status = code
	}
}

func (h *heldResponse) Write(b []byte) (int, error) {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	return h.body.Write(b)
}

func (h *heldResponse) send(w http.ResponseWriter) {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	w.WriteHeader(h.status)
	w.Write(h.body.Bytes())
}
