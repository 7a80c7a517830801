package httpapi_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// appendFixed stores events with fixed ids and times straight in the store,
// so that exports of them are byte-for-byte predictable.
func appendFixed(tb testing.TB, s trail.Store) {
	tb.Helper()
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	mk := func(i int, tenant, action string, actor trail.Actor, targets []trail.Target, ctx trail.Context, meta, trace string) *trail.Event {
		e := &trail.Event{
			ID:     fmt.Sprintf("0195509a-0000-7000-8000-%012d", i),
			Tenant: tenant, Action: action, Actor: actor, Targets: targets, Context: ctx,
			OccurredAt: t0.Add(time.Duration(i) * time.Minute), ReceivedAt: t0.Add(time.Hour),
			Version: 1, TraceID: trace,
		}
		if meta != "" {
			e.Metadata = json.RawMessage(meta)
		}
		return e
	}
	events := []*trail.Event{
		mk(1, "acme", "user.created", trail.Actor{Type: "user", ID: "u1", Name: "Ada Lovelace",
			Metadata: json.RawMessage(`{"department":"R&D, math"}`)},
			[]trail.Target{{Type: "user", ID: "u2", Name: "Bob"}},
			trail.Context{IP: "10.0.0.1", UserAgent: "Mozilla/5.0 (X11; Linux)", Location: "Berlin, DE"},
			`{"plan":"pro","seats":3}`, "trace-1"),
		mk(2, "acme", "doc.shared", trail.Actor{Type: "user", ID: "u2", Name: `Bob "the builder"`},
			[]trail.Target{{Type: "doc", ID: "d1", Name: "Plan, v2\nfinal"}, {Type: "user", ID: "u3",
				Metadata: json.RawMessage(`{"role":"viewer"}`)}},
			trail.Context{IP: "2001:db8::1"}, `{"note":"ünïcödé ✓"}`, ""),
		mk(3, "", "system.started", trail.Actor{Type: "system"}, []trail.Target{}, trail.Context{}, "", ""),
		mk(4, "globex", "user.login", trail.Actor{Type: "user", ID: "g1"}, []trail.Target{}, trail.Context{}, "", ""),
	}
	if err := s.AppendBatches(tb.Context(), []*trail.Batch{{Events: events}}); err != nil {
		tb.Fatal(err)
	}
}

// appendBulk stores n bulk.event events of acme straight in the store, one
// a second in order, and returns them.
func appendBulk(tb testing.TB, s trail.Store, n int) []*trail.Event {
	tb.Helper()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	events := make([]*trail.Event, n)
	for i := range events {
		at := t0.Add(time.Duration(i) * time.Second)
		events[i] = &trail.Event{ID: trail.NewID(at), Tenant: "acme", Action: "bulk.event",
			Actor: trail.Actor{Type: "user", ID: fmt.Sprint(i)}, Targets: []trail.Target{},
			OccurredAt: at, ReceivedAt: at, Version: 1}
	}
	if err := s.AppendBatches(tb.Context(), []*trail.Batch{{Events: events}}); err != nil {
		tb.Fatal(err)
	}
	return events
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(tb testing.TB, name string, got []byte) {
	tb.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		tb.Fatalf("%s differs from the golden file:\n got: %q\nwant: %q", name, got, want)
	}
}

const fixedUntil = "until=2025-03-02T00:00:00Z"

func TestExportGolden(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		appendFixed(t, s)
		reader := e.newKey(t, "", true, trail.ScopeEventsRead)
		acme := e.newKey(t, "acme", false, trail.ScopeEventsRead)
		tests := []struct {
			name, secret, query, golden, contentType string
		}{
			{"CSV", reader, "format=csv&order=asc&" + fixedUntil, "export.csv", "text/csv; charset=utf-8"},
			{"JSONL", reader, "format=jsonl&order=asc&" + fixedUntil, "export.jsonl", "application/jsonl"},
			{"TenantCSV", acme, "format=csv&order=asc&" + fixedUntil, "export_acme.csv", "text/csv; charset=utf-8"},
			{"FilteredJSONL", reader, "format=jsonl&action=user.*&" + fixedUntil, "export_users.jsonl", "application/jsonl"},
			{"EmptyCSV", acme, "format=csv&tenant=globex", "export_empty.csv", "text/csv; charset=utf-8"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				resp := e.do(t, "GET", "/v1/events/export?"+tt.query, tt.secret, "").want(t, 200)
				if got := resp.header.Get("Content-Type"); got != tt.contentType {
					t.Errorf("Content-Type = %q, want %q", got, tt.contentType)
				}
				format := tt.golden[strings.LastIndexByte(tt.golden, '.')+1:]
				cd := resp.header.Get("Content-Disposition")
				if !strings.HasPrefix(cd, `attachment; filename="trail-events-`) || !strings.HasSuffix(cd, "."+format+`"`) {
					t.Errorf("Content-Disposition = %q", cd)
				}
				golden(t, tt.golden, resp.body)
			})
		}
	})
}

// TestExportLarge exports more events than one store page and one flush,
// and checks that every one arrives exactly once, in order.
func TestExportLarge(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		const n = 1234 // more than one store page (1000) and several flushes
		events := appendBulk(t, s, n)
		reader := e.newKey(t, "acme", false, trail.ScopeEventsRead)
		resp := e.do(t, "GET", "/v1/events/export?format=csv&order=asc&action=bulk.event", reader, "").want(t, 200)
		rows, err := csv.NewReader(bytes.NewReader(resp.body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != n+1 {
			t.Fatalf("export has %d rows, want header + %d", len(rows), n)
		}
		for i, row := range rows[1:] {
			if row[0] != events[i].ID || row[4] != fmt.Sprint(i) {
				t.Fatalf("row %d = %v, want event %s", i+1, row, events[i].ID)
			}
		}
	})
}

// TestExportRecorded checks that every export is itself an audit event.
func TestExportRecorded(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		acme := e.newKey(t, "acme", false, trail.ScopeEventsRead)
		acmeID, _ := trail.KeyIDFromSecret(acme)
		e.do(t, "GET", "/v1/events/export?format=jsonl&action=user.*&action=doc.viewed&actor_id=u1", acme, "",
			"User-Agent", "exporter/2.0").want(t, 200)
		e.do(t, "GET", "/v1/events/export?format=csv", e.platform, "").want(t, 200)

		got := e.list(t, e.platform, "action=export.downloaded&order=asc").Events
		if len(got) != 2 {
			t.Fatalf("%d export events recorded, want 2", len(got))
		}
		first := got[0]
		if first.Tenant != "acme" || first.Actor.Type != trail.ActorAPIKey || first.Actor.ID != acmeID ||
			first.Context.IP != "127.0.0.1" || first.Context.UserAgent != "exporter/2.0" {
			t.Fatalf("export recorded as %+v", first)
		}
		var meta struct {
			Format  string         `json:"format"`
			Filters map[string]any `json:"filters"`
		}
		if err := json.Unmarshal(first.Metadata, &meta); err != nil {
			t.Fatal(err)
		}
		if meta.Format != "jsonl" || meta.Filters["actor_id"] != "u1" ||
			fmt.Sprint(meta.Filters["action"]) != "[user.* doc.viewed]" {
			t.Fatalf("export metadata = %s", first.Metadata)
		}
		if got[1].Tenant != trail.OperatorTenant {
			t.Fatalf("platform export recorded in tenant %q, want the operator log", got[1].Tenant)
		}
		// The tenant's own readers see the record of its export, and not
		// the operator's.
		if mine := e.list(t, acme, "action=export.downloaded").Events; len(mine) != 1 || mine[0].ID != first.ID {
			t.Fatalf("acme sees %d export records, want its own only", len(mine))
		}
	})
}
