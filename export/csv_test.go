package export_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/export"
	"github.com/trailhq/trail/export/exporttest"
)

// awkward are field values that CSV and JSON must escape or quote.
var awkward = []string{`Bob "the builder"`, "Plan, v2\nfinal", "ünïcödé ✓ 🚀", "<b>&amp;</b>", "line\u2028sep",
	" leading space", "\tTab", `back\slash`, "", "\r\ncrlf", `\.`, "\u00a0nbsp", "ctl\x01",
	"=1+cmd@evil.test", `=HYPERLINK("http://evil.example","x")`, "+1", "-2", "@SUM(A1)", "'quoted", "\rcr"}

// FuzzCSVRow checks the CSV row built from an event's JSON against
// encoding/csv over the decoded event.
func FuzzCSVRow(f *testing.F) {
	for i := range awkward {
		f.Add(awkward[i], awkward[(i+1)%len(awkward)], awkward[(i+2)%len(awkward)], `{"a":"`+awkward[i]+`"}`, i%2 == 0)
	}
	f.Fuzz(func(t *testing.T, name, agent, target, meta string, noTargets bool) {
		e := &trail.Event{ID: "0195509a-0000-7000-8000-000000000001", Tenant: "acme", Action: "a.b",
			OccurredAt: time.Date(2025, 3, 1, 12, 0, 0, 123456000, time.UTC), Version: len(name) + 1, TraceID: name,
			ReceivedAt: time.Date(2025, 3, 1, 12, 0, 1, 0, time.UTC),
			Actor:      trail.Actor{Type: "user", ID: target, Name: name},
			Context:    trail.Context{UserAgent: agent, Location: name + agent},
			Targets: []trail.Target{{Type: "doc", ID: target, Name: agent, Metadata: json.RawMessage(`{"name":"x"}`)},
				{Type: "user", ID: name}},
		}
		if !utf8.ValidString(name) || !utf8.ValidString(agent) || !utf8.ValidString(target) {
			t.Skip("invalid UTF-8, which trail.ExportJSON hands over re-marshaled")
		}
		if noTargets {
			e.Targets = nil
		}
		if json.Valid([]byte(meta)) && strings.HasPrefix(strings.TrimSpace(meta), "{") {
			e.Metadata = json.RawMessage(meta)
			e.Actor.Metadata = json.RawMessage(meta)
		}
		data, err := json.Marshal(e)
		if err != nil {
			t.Skip("not an event json.Marshal can write")
		}
		var stored trail.Event // what a store returns: the event decoded from its JSON
		if err := json.Unmarshal(data, &stored); err != nil {
			t.Fatal(err)
		}
		got, err := export.CSVRow(nil, data)
		if err != nil {
			t.Fatalf("CSVRow(%s): %v", data, err)
		}
		want := exporttest.ReferenceCSV(t, &stored)
		want = want[bytes.IndexByte(want, '\n')+1:] // without the header
		if !bytes.Equal(got, want) {
			t.Fatalf("CSVRow(%s):\n got: %q\nwant: %q", data, got, want)
		}
	})
}

// TestCSVRowMalformed checks that JSON that is not an event object is an
// error, not a row.
func TestCSVRowMalformed(t *testing.T) {
	for _, data := range []string{``, `[]`, `{`, `{"id":}`, `{"id":"x"`, `{"id":"x"}}`, `{"id" "x"}`,
		`{"id":"x",}`, `{"actor":{"type":"user"`, `{"targets":[{"a":"]"}`, `{"id":1}`, `{"occurred_at":"yesterday"}`,
		`{"received_at":"yesterday"}`, `{"version":"1"}`, `{"version":1.5}`, `{"version":-}`, `{"version":01}`,
		`{"targets":[1]}`, `{"targets":[{"type":1}]}`, `{"targets":[{"id":"x",}]}`, `{"targets":{"type":"x"}}`} {
		if got, err := export.CSVRow(nil, []byte(data)); err == nil {
			t.Errorf("CSVRow(%s) = %q, want an error", data, got)
		}
	}
}

// TestCSVNeutralizesFormulas checks the cells a spreadsheet would run as
// formulas, as planted by someone who never signed in.
func TestCSVNeutralizesFormulas(t *testing.T) {
	for _, tt := range []struct{ name, want string }{
		{"=1+cmd@evil.test", "'=1+cmd@evil.test"},
		{`=HYPERLINK("http://evil.example","x")`, `"'=HYPERLINK(""http://evil.example"",""x"")"`},
		{"+1", "'+1"},
		{"-2", "'-2"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tTab", "'\tTab"},
		{"\rcr", "\"'\rcr\""},
		{"=a,b", `"'=a,b"`},
		{"\u00e9=1", "\u00e9=1"},
		{"a=1", "a=1"},
		{" =1", `" =1"`},
		{"'=1", "'=1"},
		{"", ""},
	} {
		e := &trail.Event{ID: "0195509a-0000-7000-8000-000000000001", Tenant: "acme", Action: "login.failure",
			OccurredAt: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC), Version: 1,
			Actor: trail.Actor{Type: "user", ID: "u1", Name: tt.name}}
		data, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		row, err := export.CSVRow(nil, data)
		if err != nil {
			t.Fatal(err)
		}
		want := "0195509a-0000-7000-8000-000000000001,2025-03-01T12:00:00Z,login.failure,user,u1," + tt.want +
			",[],,,,,acme,,1,0001-01-01T00:00:00Z,,,,\n"
		if got := string(row); got != want {
			t.Errorf("name %q:\n got: %q\nwant: %q", tt.name, got, want)
		}
	}
}
