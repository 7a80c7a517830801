package storetest

import (
	"testing"

	"github.com/trailhq/trail"
)

// testLogProgress: a stream position measured in one tenant's log counts
// that tenant's events only.
func testLogProgress(t *testing.T, open func(t *testing.T) trail.Store) {
	st := open(t)
	s := st
	mustAppend(t, st, batch(ev("acme", "a.one", "u1", 0), ev("acme", "a.two", "u1", 1)),
		batch(ev("globex", "g.one", "u1", 2)), batch(ev("acme", "a.three", "u1", 3)), batch(ev("", "s.one", "u1", 4)))
	evs, err := st.StreamEvents(ctx(t), 0, 10)
	if err != nil || len(evs) != 5 {
		t.Fatalf("StreamEvents = %d events, %v", len(evs), err)
	}
	pos := func(i int) int64 { return evs[i].Pos }
	tests := []struct {
		tenant       string
		pos          int64
		next, behind int64
	}{
		{"acme", 0, 0, 3},
		{"acme", pos(0), 1, 2},
		{"acme", pos(1), 2, 1},
		{"acme", pos(2), 2, 1}, // globex's event moves nothing
		{"acme", pos(3), 3, 0},
		{"acme", pos(4), 3, 0},
		{"globex", pos(1), 0, 1},
		{"globex", pos(4), 1, 0},
		{"", pos(3), 0, 1},
		{"initech", pos(4), 0, 0},
	}
	for _, tt := range tests {
		next, behind, err := s.LogProgress(ctx(t), tt.tenant, tt.pos)
		if err != nil || next != tt.next || behind != tt.behind {
			t.Errorf("LogProgress(%q, %d) = %d, %d, %v; want %d, %d", tt.tenant, tt.pos, next, behind, err, tt.next, tt.behind)
		}
	}

	// Retention removed acme's first two events: a position before them
	// counts from the oldest one left.
	rs := st
	if _, _, err := rs.DeleteEvents(ctx(t), "acme", 0, 2, 10); err != nil {
		t.Fatal(err)
	}
	if next, behind, err := s.LogProgress(ctx(t), "acme", 0); err != nil || next != 2 || behind != 1 {
		t.Errorf("LogProgress after retention = %d, %d, %v; want 2, 1", next, behind, err)
	}
}
