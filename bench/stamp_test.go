package bench

import (
	"encoding/json"
	"testing"
	"time"
)

// TestStamp checks that a stamped body is the body of the same events with
// the later times, and still valid JSON.
func TestStamp(t *testing.T) {
	g := newGen(1)
	b := g.body(0, 3)
	var got struct {
		Events []struct {
			OccurredAt string `json:"occurred_at"`
		} `json:"events"`
	}
	if err := json.Unmarshal(g.stamp(b, 1000), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Events) != 3 {
		t.Fatalf("%d events, want 3", len(got.Events))
	}
	for k, e := range got.Events {
		at, err := time.Parse(time.RFC3339, e.OccurredAt)
		if err != nil || !at.Equal(g.at(1000+k).Truncate(time.Microsecond)) {
			t.Errorf("event %d occurred at %q (%v), want %v", k, e.OccurredAt, err, g.at(1000+k))
		}
	}
}
