package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/trailhq/trail"
)

// record appends one of Trail's own audit events about r: the calling key
// is the actor, and the request's client address and user agent are the
// context. It returns once the event is durable.
func (s *Server) record(r *http.Request, tenant, action string, metadata any, targets ...trail.Target) error {
	e := trail.NewSystemEvent(trail.AuditLog(tenant), action, apiKey(r).Actor(), s.clientContext(r), s.now(), targets...)
	if metadata != nil {
		b, err := json.Marshal(metadata)
		if err != nil {
			return fmt.Errorf("encode %s metadata: %w", action, err)
		}
		e.Metadata = b
	}
	return s.writer.Append(r.Context(), &trail.Batch{Events: []*trail.Event{e}})
}
