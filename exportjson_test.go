package trail_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/teststore"
)

// exportEvents returns events whose fields hold what CSV and JSON escape:
// quotes, commas, line breaks, HTML characters, U+2028, non-ASCII text,
// invalid UTF-8, system events, no targets and no metadata, and equal times, so that the
// keyset's id tie-break falls on chunk boundaries.
func exportEvents() []*trail.Event {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	names := []string{`Bob "the builder"`, "Plan, v2\nfinal", "ünïcödé ✓ 🚀", "<b>&amp;</b>", "line\u2028sep",
		" leading space", `back\slash`, "", "\r\ncrlf", `\.`}
	tenants := []string{"acme", "acme", "globex", trail.SystemTenant}
	actions := []string{"user.created", "user.login", "doc.shared", "system.started", "doc.deleted"}
	var events []*trail.Event
	for i := range 60 {
		at := t0.Add(time.Duration(i/3) * time.Minute) // three events a minute
		e := &trail.Event{
			ID: trail.NewID(at), Tenant: tenants[i%len(tenants)], Action: actions[i%len(actions)],
			OccurredAt: at, ReceivedAt: at.Add(time.Second), Version: 1 + i%2,
			Actor: trail.Actor{Type: "user", ID: fmt.Sprintf("u%d", i%7), Name: names[i%len(names)]},
			Context: trail.Context{IP: fmt.Sprintf("10.0.0.%d", i%4), UserAgent: names[(i+1)%len(names)],
				Location: names[(i+2)%len(names)]},
			Targets: []trail.Target{},
		}
		if i%3 != 0 {
			e.Targets = []trail.Target{{Type: "doc", ID: fmt.Sprintf("d%d", i%5), Name: names[(i+3)%len(names)]}}
		}
		if i%4 == 1 {
			e.Targets = append(e.Targets, trail.Target{Type: "user", ID: "u1",
				Metadata: json.RawMessage(`{"role":"<viewer>","n":1.50}`)})
		}
		if i%2 == 0 {
			e.Metadata = json.RawMessage(fmt.Sprintf(`{"note":%q,"i":%d}`, names[i%len(names)], i))
		}
		if i%9 == 4 { // only Trail's own events can hold it, as a request's user agent
			e.Context.UserAgent = "bad\xa7agent"
			e.Targets = append(e.Targets, trail.Target{Type: "key", ID: "k1", Name: "k\xff"})
		}
		if i%5 == 0 {
			e.Actor = trail.Actor{Type: trail.ActorSystem, Metadata: json.RawMessage(`{"host":"a&b"}`)}
			e.TraceID = fmt.Sprintf("trace-%d", i%3)
		}
		events = append(events, e)
	}
	return events
}

// exportQueries are the filters, sorts and scopes an export may take.
func exportQueries() map[string]trail.Query {
	all := trail.Scope{All: true}
	acme := trail.Scope{Tenant: "acme"}
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	return map[string]trail.Query{
		"AllNewestFirst":   {Scope: all, Desc: true},
		"AllOldestFirst":   {Scope: all},
		"TenantWithSystem": {Scope: acme, Desc: true},
		"SystemOnly":       {Scope: trail.Scope{Tenant: trail.SystemTenant}},
		"ActionPrefix":     {Scope: acme, Actions: []string{"user.*", "doc.deleted"}, Desc: true},
		"ActionNoMatch":    {Scope: all, Actions: []string{"nothing.here"}},
		"Actor":            {Scope: all, ActorID: "u3", Desc: true},
		"ActorType":        {Scope: all, ActorType: trail.ActorSystem},
		"Target":           {Scope: all, TargetType: "doc", TargetID: "d2"},
		"TargetType":       {Scope: acme, TargetType: "user", Desc: true},
		"IPAndTime":        {Scope: all, IP: "10.0.0.1", Since: t0.Add(3 * time.Minute), Until: t0.Add(15 * time.Minute)},
		"Trace":            {Scope: all, TraceID: "trace-1"},
		"SortAction":       {Scope: all, Sort: trail.SortAction},
		"SortActionDesc":   {Scope: acme, Sort: trail.SortAction, Desc: true},
		"SortActor":        {Scope: all, Sort: trail.SortActor, Actions: []string{"doc.*"}},
	}
}

// TestExportJSON checks that the chunked export gives, for every query,
// exactly the events and bytes of the paged export that decodes every
// event and marshals it again, across chunk boundaries by count and by
// size, on every store.
func TestExportJSON(t *testing.T) {
	teststore.ForEach(t, func(t *testing.T, s trail.Store) {
		events := exportEvents()
		if err := s.AppendBatches(t.Context(), []*trail.Batch{{Events: events[:30]}, {Events: events[30:]}}); err != nil {
			t.Fatal(err)
		}
		if _, ok := s.(trail.JSONExporter); !ok {
			t.Fatalf("%T does not implement trail.JSONExporter", s)
		}
		for name, q := range exportQueries() {
			t.Run(name, func(t *testing.T) {
				want := slowExport(t, s, q)
				if name != "ActionNoMatch" && len(want) == 0 {
					t.Fatal("the query selects no events; the test data has drifted")
				}
				for _, size := range []struct{ rows, bytes int }{{1, 1 << 20}, {4, 1 << 20}, {1000, 1500}, {8192, 4 << 20}} {
					var got [][]byte
					err := trail.ExportJSONChunked(t.Context(), s, q, size.rows, size.bytes, func(b []byte) error {
						got = append(got, bytes.Clone(b))
						return nil
					})
					if err != nil {
						t.Fatal(err)
					}
					if !equalLines(got, want) {
						t.Fatalf("chunks of %d events, %d bytes:\n got %d events: %s\nwant %d events: %s",
							size.rows, size.bytes, len(got), bytes.Join(got, []byte("\n")), len(want), bytes.Join(want, []byte("\n")))
					}
				}
			})
		}
	})
}

// TestExportJSONStops checks that an error from the callback ends the
// export at once and is returned.
func TestExportJSONStops(t *testing.T) {
	teststore.ForEach(t, func(t *testing.T, s trail.Store) {
		if err := s.AppendBatches(t.Context(), []*trail.Batch{{Events: exportEvents()}}); err != nil {
			t.Fatal(err)
		}
		stop := fmt.Errorf("client went away")
		n := 0
		err := trail.ExportJSONChunked(t.Context(), s, trail.Query{Scope: trail.Scope{All: true}}, 4, 1<<20,
			func([]byte) error {
				if n++; n == 7 {
					return stop
				}
				return nil
			})
		if got, want := err, stop; got != want {
			t.Fatalf("err = %v, want %v", got, want)
		}
		if got, want := n, 7; got != want {
			t.Fatalf("callback ran %d times, want %d", got, want)
		}
	})
}

// slowExport is the export as it was before chunks: page by page, each
// event decoded by the store and marshaled again.
func slowExport(tb testing.TB, s trail.Store, q trail.Query) [][]byte {
	tb.Helper()
	var out [][]byte
	err := trail.ExportEvents(tb.Context(), s, q, func(e *trail.Event) error {
		b, err := json.Marshal(e)
		out = append(out, b)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func equalLines(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
