package forward

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/trailhq/trail"
)

// hecPath is the HTTP Event Collector endpoint for JSON events.
const hecPath = "/services/collector/event"

// splunk sends events to a Splunk HTTP Event Collector: one JSON object
// per event, concatenated in one request per batch, as HEC accepts.
type splunk struct {
	f      *trail.Forwarder
	url    string
	host   string
	client *http.Client
}

// hecEvent is one event's HEC envelope, without the event. Time is the
// event's occurred_at in epoch seconds, with milliseconds. The event
// member follows, holding the event's stored JSON verbatim (appendEvent).
type hecEvent struct {
	Time       json.Number `json:"time"`
	Host       string      `json:"host,omitempty"`
	Source     string      `json:"source,omitempty"`
	Sourcetype string      `json:"sourcetype,omitempty"`
	Index      string      `json:"index,omitempty"`
}

func newSplunk(f *trail.Forwarder, g *Guard) *splunk {
	host := f.Splunk.Host
	if host == "" {
		host, _ = os.Hostname()
	}
	// The URI may be the collector's base URL or the full endpoint.
	url := strings.TrimSuffix(f.URI, "/")
	if !strings.HasSuffix(url, hecPath) {
		url += hecPath
	}
	return &splunk{f: f, url: url, host: host, client: newHTTPClient(f.Timeout.Std(), g)}
}

func (s *splunk) send(ctx context.Context, b *batch) error {
	var body bytes.Buffer
	for _, e := range b.events {
		if err := s.appendEvent(&body, e); err != nil {
			return permanent(err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, &body)
	if err != nil {
		return permanent(fmt.Errorf("build request: %w", err))
	}
	req.Header.Set("Authorization", "Splunk "+s.f.Token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent(s.f))
	return doHTTP(s.client, req)
}

// appendEvent writes e's envelope to body, one line: the envelope's
// fields, then "event" with the event's stored JSON as it is, the bytes
// GET /v1/events/{id} answers.
func (s *splunk) appendEvent(body *bytes.Buffer, e *trail.Event) error {
	data, err := eventJSON(e)
	if err != nil {
		return err
	}
	secs := float64(e.OccurredAt.UnixMilli()) / 1000
	head, err := json.Marshal(hecEvent{
		Time:       json.Number(strconv.FormatFloat(secs, 'f', 3, 64)),
		Host:       s.host,
		Source:     s.f.Splunk.Source,
		Sourcetype: s.f.Splunk.Sourcetype,
		Index:      s.f.Splunk.Index,
	})
	if err != nil {
		return fmt.Errorf("encode event %s: %w", e.ID, err)
	}
	body.Write(head[:len(head)-1]) // without its closing brace
	body.WriteString(`,"event":`)
	body.Write(data)
	body.WriteString("}\n")
	return nil
}

func (s *splunk) close() error {
	s.client.CloseIdleConnections()
	return nil
}
