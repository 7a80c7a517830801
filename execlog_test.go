package trail_test

import (
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
)

func TestParseLogs(t *testing.T) {
	ins, err := trail.ParseLogs([]byte(`{"logs":[{"trace_id":"t1","message":"a"},{"trace_id":"t1","time":"2026-01-01T00:00:00Z","level":"warn"}]}`))
	if err != nil || len(ins) != 2 {
		t.Fatalf("ParseLogs = %d records, %v", len(ins), err)
	}
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	r0, r1 := ins[0].Record("acme", now), ins[1].Record("acme", now)
	if r0.Level != trail.LevelInfo || !r0.Time.Equal(now) || r1.Level != trail.LevelWarn || r1.Time.Year() != 2026 || r1.Time.Month() != 1 {
		t.Fatalf("records = %+v, %+v", r0, r1)
	}
	for _, tc := range []struct{ body, field string }{
		{`{"message":"x"}`, "trace_id"},
		{`{"trace_id":"t","level":"verbose"}`, "level"},
		{`{"trace_id":"t","time":"yesterday"}`, "time"},
		{`{"trace_id":"t","attributes":[1]}`, "attributes"},
		{`{"trace_id":"t","tenant":"a b"}`, "tenant"},
		{`{"trace_id":"t","extra":1}`, "extra: unknown field"},
		{`{"trace_id":"t","trace_id":"u"}`, "trace_id: repeated member name"},
		{`{"trace_id":"t","Level":"warn"}`, "Level: unknown field"},
		{`{"trace_id":"t","message":[]}`, "log"},
		{`{"logs":[{"trace_id":"t"}],"logs":[{"trace_id":"u"}]}`, "logs: repeated member name"},
		{`{"logs":[]}`, "logs"},
		{`{"trace_id":"t","message":"a\u0000"}`, "body"},
		// A record of {"logs": [...]} is named by its place there, not as
		// an event: logs[1].extra, never events[1].extra.
		{`{"logs":[{"trace_id":"t"},{"trace_id":"t","extra":1}]}`, "logs[1].extra: unknown field"},
	} {
		_, err := trail.ParseLogs([]byte(tc.body))
		if trail.ErrorCode(err) != trail.EINVALID || !strings.Contains(trail.ErrorMessage(err), tc.field) {
			t.Errorf("%s: err = %v, want EINVALID naming %s", tc.body, err, tc.field)
		}
	}
}

func FuzzParseLogs(f *testing.F) {
	f.Add([]byte(`{"logs":[{"trace_id":"t1","message":"a","attributes":{"k":1}}]}`))
	f.Add([]byte(`{"trace_id":"t1","time":"2026-01-01T00:00:00Z"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ins, err := trail.ParseLogs(body)
		if err != nil {
			return
		}
		for _, in := range ins {
			r := in.Record("acme", time.Now())
			if r.TraceID == "" || strings.ContainsRune(r.Message, 0) {
				t.Fatalf("accepted a record no store can hold: %+v", r)
			}
		}
	})
}
