package forward_test

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/testenv"
)

// TestSplunk checks the HTTP Event Collector request format against an
// httptest receiver (no Splunk can run here): the endpoint path, the
// "Splunk <token>" authorization, and one JSON object per event with
// time, host, source, sourcetype, index and the event.
func TestSplunk(t *testing.T) {
	rc := NewReceiver(t, nil)
	s := MustOpenStore(t)
	MustCreate(t, s, &trail.Forwarder{Name: "splunk", Kind: trail.ForwarderSplunk, URI: rc.URL, Token: "hec-token-1",
		Splunk: &trail.SplunkConfig{Index: "audit", Host: "trail-1"}})
	evs := MustAppend(t, s, "acme", "user.created", "user.deleted")
	StartManager(t, s, "node-1")
	testenv.Eventually(t, 15*time.Second, "the cursor to pass both events", func() bool { return status(t, s, "", "splunk").Cursor == evs[1].Pos })

	var got []hecEnvelope
	for _, r := range rc.Requests() {
		checks := []struct{ name, got, want string }{
			{"method", r.Method, "POST"},
			{"path", r.Path, "/services/collector/event"},
			{"Authorization", r.Header.Get("Authorization"), "Splunk hec-token-1"},
			{"Content-Type", r.Header.Get("Content-Type"), "application/json"},
			{"User-Agent", r.Header.Get("User-Agent"), "Trail-Audit-Forwarder/" + trail.Version},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
			}
		}
		got = append(got, decodeHEC(t, r.Body)...)
	}
	if len(got) != 2 {
		t.Fatalf("got %d HEC events, want 2", len(got))
	}
	for i, h := range got {
		e := evs[i]
		wantTime := float64(e.OccurredAt.UnixMilli()) / 1000
		if h.Time != wantTime || h.Host != "trail-1" || h.Source != "trail" || h.Sourcetype != "trail:audit" ||
			h.Index != "audit" {
			t.Errorf("event %d envelope = %+v, want time %v, host trail-1, source trail, sourcetype trail:audit, index audit",
				i, h, wantTime)
		}
		if h.Event.ID != e.ID || h.Event.Action != e.Action || h.Event.Tenant != "acme" {
			t.Errorf("event %d = %+v, want %s %s", i, h.Event, e.ID, e.Action)
		}
	}
}

// hecEnvelope is one HEC event as Splunk would parse it.
type hecEnvelope struct {
	Time       float64     `json:"time"`
	Host       string      `json:"host"`
	Source     string      `json:"source"`
	Sourcetype string      `json:"sourcetype"`
	Index      string      `json:"index"`
	Event      trail.Event `json:"event"`
}

// decodeHEC reads concatenated JSON objects, as HEC does, rejecting any
// field HEC does not know.
func decodeHEC(t *testing.T, body []byte) []hecEnvelope {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var out []hecEnvelope
	for {
		var h hecEnvelope
		err := dec.Decode(&h)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("HEC body: %v: %s", err, strings.TrimSpace(string(body)))
		}
		out = append(out, h)
	}
}
