package trail_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
)

func searchEvent() *trail.Event {
	return &trail.Event{ID: "01938f3a-7b2c-7def-8a9b-0c1d2e3f4a5b", Tenant: "acme", Action: "document.shared",
		OccurredAt: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC),
		Actor:      trail.Actor{Type: "user", ID: "user_00042", Name: "Ada Lovelace", Metadata: json.RawMessage(`{"team":"Analytical Engines"}`)},
		Targets: []trail.Target{{Type: "document", ID: "doc-7", Name: "Q4 Plan"},
			{Type: "folder", ID: "f1", Metadata: json.RawMessage(`{"path":"/finance/2026"}`)}},
		Context:  trail.Context{IP: "203.0.113.7", UserAgent: "Mozilla/5.0 (X11; Linux)", Location: "Zürich"},
		Metadata: json.RawMessage(`{"ticket":"OPS-1234","reviewers":["grace","linus"],"count":3,"urgent":true,"nested":{"deep":"Émile"}}`),
		TraceID:  "trace-abc",
	}
}

func TestSearchMatch(t *testing.T) {
	e := searchEvent()
	for q, want := range map[string]bool{
		"ada":                                true,
		"ADA":                                true,
		"lovelace ada":                       true,
		`"ada lovelace"`:                     true,
		`"lovelace ada"`:                     false, // a phrase keeps its order
		"babbage":                            false,
		"ada babbage":                        false, // AND is implied
		"ada OR babbage":                     true,
		"ada AND NOT babbage":                true,
		"ada -lovelace":                      false,
		"-babbage":                           true,
		"NOT (ada OR babbage)":               false,
		"actor.name:ada":                     true,
		"actor.id:ada":                       false,
		"actor.id:user_00042":                true,
		"user_00042":                         true,
		"00042":                              true,
		"metadata.ticket:OPS-1234":           true,
		"metadata.ticket:ops-1235":           false,
		"metadata.ticket:ops*":               true,
		"metadata:ticket":                    true, // keys are searchable at their object's path
		"metadata.reviewers:linus":           true,
		"metadata.count:3":                   true,
		"metadata.urgent:true":               true,
		"metadata.nested.deep:émile":         true,
		"metadata.nested:émile":              true, // a path covers what is under it
		"zürich":                             true,
		"ip:203.0.113.*":                     true,
		"ip:203.0.114.*":                     false,
		"ip:203.0.113.7":                     true,
		"context.ip:203.0.113.7":             true,
		"ip:113.7":                           true, // words in a row inside the value
		"target.name:q4":                     true,
		"target.type:folder":                 true,
		"target.metadata.path:finance":       true,
		"target.id:doc-7 target.type:folder": true, // any target, each term on its own
		"targets:document":                   true,
		"actor.metadata.team:engines":        true,
		"action:document.shared":             true,
		"action:shared":                      true,
		"action:document.deleted":            false,
		"shar*":                              true,
		"lovel* OR nothing":                  true,
		`"q4 pla*"`:                          true,
		"trace_id:trace-abc":                 true,
		"id:01938f3a":                        true,
		"user_agent:linux":                   true,
		"https://example.com":                false, // a URL is words, not a field
		"(ada OR grace) (linus)":             true,
		"acme":                               false, // the tenant is not searched
	} {
		s, err := trail.ParseSearch(q)
		if err != nil {
			t.Errorf("ParseSearch(%q): %v", q, err)
			continue
		}
		if got := s.Match(e); got != want {
			t.Errorf("%q matches = %v, want %v", q, got, want)
		}
	}
}

func TestParseSearchErrors(t *testing.T) {
	for q, want := range map[string]string{
		"":                "must not be empty",
		"   ":             "must not be empty",
		`"ada`:            "quote that is not closed",
		`actor.name:"ada`: "quote that is not closed",
		"(ada":            "( that is not closed",
		"ada)":            `unexpected ")"`,
		"ada OR":          "ends where",
		"AND ada":         "has AND where",
		"NOT":             "ends where",
		"...":             "no letters or digits",
		"*":               "no letters or digits",
		"acter.name:ada":  `unknown field "acter.name"`,
		"metadata.:x":     `unknown field "metadata."`,
		"tenant:acme":     `unknown field "tenant"`,
		strings.Repeat("(", 20) + "a" + strings.Repeat(")", 20): "nests more than",
		strings.Repeat("NOT ", 20) + "a":                        "nests more than",
		strings.Repeat("a ", 33):                                "more than 32",
		strings.Repeat("x", 1001):                               "at most 1000 bytes",
		"\xff":                                                  "valid UTF-8",
	} {
		_, err := trail.ParseSearch(q)
		if err == nil || trail.ErrorCode(err) != trail.EINVALID || !strings.HasPrefix(trail.ErrorMessage(err), "q: ") || !strings.Contains(trail.ErrorMessage(err), want) {
			t.Errorf("ParseSearch(%q) = %v, want an invalid q that says %q", q, err, want)
		}
	}
}

func FuzzParseSearch(f *testing.F) {
	for _, q := range []string{"ada", `"ada lovelace" OR -x`, "ip:203.0.113.*", "(a OR (b AND NOT c))", `metadata.k:"v w*"`, "-(a b)"} {
		f.Add(q)
	}
	e := searchEvent()
	f.Fuzz(func(t *testing.T, q string) {
		s, err := trail.ParseSearch(q)
		if err != nil {
			if trail.ErrorCode(err) != trail.EINVALID || !strings.HasPrefix(trail.ErrorMessage(err), "q: ") {
				t.Fatalf("ParseSearch(%q): %v is not an invalid q", q, err)
			}
			return
		}
		s.Match(e)
		checkIndexSuperset(t, q, e)
		if s.String() != q {
			t.Fatalf("String() = %q, want %q", s.String(), q)
		}
	})
}
