package trail_test

import (
	"strings"
	"testing"

	"github.com/trailhq/trail"
)

func TestSearchNarrow(t *testing.T) {
	for q, want := range map[string]string{
		"ada":                      "ada",
		"ada lovelace":             "(ada & lovelace)",
		`"ada lovelace"`:           "(ada & lovelace)",
		"ada OR babbage":           "(ada | babbage)",
		"ada -babbage":             "ada",
		"NOT ada":                  "*",
		"ada OR -babbage":          "*",
		"metadata.ticket:OPS-12*":  "(ops & 12*)",
		"ip:203.0.113.*":           "(203 & 0 & 113)",
		"(a OR b) (c OR d*)":       "((a | b) & (c | d*))",
		"actor.name:ada NOT (x y)": "ada",
	} {
		s, err := trail.ParseSearch(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if got := s.Narrow().String(); got != want {
			t.Errorf("%s: narrow = %s, want %s", q, got, want)
		}
	}
}

// TestSearchNarrowHolds checks that every event a query matches meets
// its narrowing, over the queries of TestSearchMatch's kind.
func TestSearchNarrowHolds(t *testing.T) {
	e := searchEvent()
	var toks []string
	for _, f := range trail.SearchFields(e) {
		toks = append(toks, trail.SearchTokens(f.Text)...)
	}
	for _, q := range []string{"ada", `"ada lovelace"`, "ada OR babbage", "-babbage", "metadata.ticket:ops*",
		"ip:203.0.113.*", "metadata.nested:émile", "zürich OR x", "(ada OR x) (lovelace OR y*) -z", "lov*"} {
		s, err := trail.ParseSearch(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if !s.Match(e) {
			t.Fatalf("%s: does not match the event", q)
		}
		if !holds(s.Narrow(), toks) {
			t.Errorf("%s: the event matches but not its narrowing %s", q, s.Narrow())
		}
	}
}

func holds(t *trail.TokenQuery, toks []string) bool {
	switch {
	case t == nil:
		return true
	case len(t.And) > 0:
		for _, c := range t.And {
			if !holds(c, toks) {
				return false
			}
		}
		return true
	case len(t.Or) > 0:
		for _, c := range t.Or {
			if holds(c, toks) {
				return true
			}
		}
		return false
	}
	for _, k := range toks {
		if k == t.Token || t.Prefix && strings.HasPrefix(k, t.Token) {
			return true
		}
	}
	return false
}
