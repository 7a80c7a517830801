package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/trailhq/trail"
)

// maxIdempotencyKeyLen bounds the Idempotency-Key header.
const maxIdempotencyKeyLen = 255

type ingestResponse struct {
	IDs []string `json:"ids"`
}

// handleIngest stores one event or a batch, all or nothing, and answers only
// once the batch is durable.
func (s *Server) handleIngest(w http.ResponseWriter, r *http.Request) error {
	key := apiKey(r)
	now := s.now()
	idemKey, err := idempotencyKey(r)
	if err != nil {
		return err
	}
	body, err := readBody(w, r, trail.MaxBodyBytes)
	if err != nil {
		return err
	}
	events, err := buildEvents(key, body, now)
	if err != nil {
		return err
	}
	if err := s.checkSchemas(r.Context(), events); err != nil { // schemas.go
		return err
	}
	batch, answer, err := newIngestBatch(events, key.ID, idemKey, body, now)
	if err != nil {
		return err
	}
	if err := s.writer.Append(r.Context(), batch); err != nil {
		return fmt.Errorf("append events: %w", err)
	}
	if rep := batch.Replayed; rep != nil {
		if rep.RequestHash != batch.Idempotency.Response.RequestHash {
			return errIdempotencyMismatch
		}
		w.Header().Set("Idempotent-Replayed", "true")
		writeRawJSON(w, rep.Status, rep.Body)
		return nil
	}
	s.metrics.ingested.Add(float64(len(events)))
	writeRawJSON(w, http.StatusCreated, answer)
	return nil
}

// newIngestBatch makes the batch of one request and the answer it gets,
// and encodes its events here, in the request's goroutine (Batch.Encode).
// With an Idempotency-Key, the batch carries that answer for the store to
// remember under the API key's id.
func newIngestBatch(events []*trail.Event, keyID, idemKey string, body []byte, now time.Time) (*trail.Batch, []byte, error) {
	resp := ingestResponse{IDs: make([]string, len(events))}
	for i, e := range events {
		resp.IDs[i] = e.ID
	}
	answer, _ := json.Marshal(resp)
	b := &trail.Batch{Events: events}
	if err := b.Encode(); err != nil {
		return nil, nil, err
	}
	if idemKey != "" {
		sum := sha256.Sum256(body)
		b.Idempotency = &trail.Idempotency{Namespace: keyID, Key: idemKey,
			Response: trail.IdempotentResponse{RequestHash: hex.EncodeToString(sum[:]),
				Status: http.StatusCreated, Body: answer, CreatedAt: now}}
	}
	return b, answer, nil
}

func idempotencyKey(r *http.Request) (string, error) {
	if len(r.Header.Values("Idempotency-Key")) > 1 {
		// A proxy that reads the last one would see another request.
		return "", trail.Invalid("Idempotency-Key", "given more than once")
	}
	k := r.Header.Get("Idempotency-Key")
	if len(k) > maxIdempotencyKeyLen {
		return "", trail.Invalid("Idempotency-Key", fmt.Sprintf("longer than %d characters", maxIdempotencyKeyLen))
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return "", trail.Invalid("Idempotency-Key", "must hold printable ASCII characters only")
		}
	}
	return k, nil
}

// buildEvents validates body and resolves each event's tenant for key: a
// tenant key writes to its own tenant only.
func buildEvents(key *trail.APIKey, body []byte, now time.Time) ([]*trail.Event, error) {
	ins, err := trail.ParseEvents(body, now)
	if err != nil {
		return nil, err
	}
	var p trail.Problems
	events := make([]*trail.Event, len(ins))
	for i, in := range ins {
		tenant, ok := key.WriteTenant(in.Tenant)
		if !ok {
			p.Add(i, "tenant", fmt.Sprintf("this API key writes events of tenant %q only", key.Tenant))
			continue
		}
		events[i] = in.Event(tenant, now)
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	return events, nil
}

// readBody reads at most limit bytes of r's body; a longer body is
// ETOOLARGE.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, trail.Errorf(trail.ETOOLARGE, "body: larger than %d bytes", limit)
	case err != nil:
		return nil, trail.Errorf(trail.EINVALID, "body: could not be read: %v", err)
	}
	return b, nil
}

// eventsPage is the answer of the event listings.
type eventsPage struct {
	Events []*trail.Event `json:"events"`
	// NextCursor continues the listing; absent on the last page.
	NextCursor string `json:"next_cursor,omitempty"`
}

func (s *Server) handleListEvents(w http.ResponseWriter, r *http.Request) error {
	return s.listEvents(w, r, nil)
}

// handleTargetEvents lists the events that touched one entity: the same
// filters as GET /v1/events, with the target fixed by the path.
func (s *Server) handleTargetEvents(w http.ResponseWriter, r *http.Request) error {
	return s.listEvents(w, r, &trail.Target{Type: r.PathValue("type"), ID: r.PathValue("id")})
}

// listEvents answers a page of the events r asks for, with target fixed
// when not nil.
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request, target *trail.Target) error {
	q, err := eventQuery(r, target)
	if err != nil {
		return err
	}
	page := &trail.Page{}
	if q != nil {
		if page, err = s.store.Events(r.Context(), q); err != nil {
			return fmt.Errorf("query events: %w", err)
		}
	}
	resp := eventsPage{Events: page.Events}
	if resp.Events == nil {
		resp.Events = []*trail.Event{}
	}
	if page.Next != nil {
		resp.NextCursor = page.Next.Encode()
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// handleGetEvent returns one event, its JSON as stored; another tenant's event is "not found",
// so that its existence is not revealed.
func (s *Server) handleGetEvent(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !trail.ValidID(id) {
		return trail.Errorf(trail.ENOTFOUND, "event not found")
	}
	e, err := s.store.Event(r.Context(), apiKey(r).ReadScope(""), id)
	if err != nil {
		return fmt.Errorf("get event: %w", err)
	}
	// The stored bytes as they are, which forwarders send too.
	data, err := trail.StoredJSON(e)
	if err != nil {
		return fmt.Errorf("get event: %w", err)
	}
	writeRawJSON(w, http.StatusOK, data)
	return nil
}
