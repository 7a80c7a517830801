package trail_test

import (
	"strings"
	"testing"

	"github.com/trailhq/trail"
)

// indexHolds evaluates x as a full-text index over e's document (the words
// of every string of e in a row) would.
func indexHolds(x *trail.SearchIndexExpr, doc []string) bool {
	switch x.Op {
	case "and", "or":
		for _, k := range x.Kids {
			if indexHolds(k, doc) != (x.Op == "and") {
				return x.Op == "or"
			}
		}
		return x.Op == "and"
	}
	for i := 0; i+len(x.Tokens) <= len(doc); i++ {
		ok := true
		for j, w := range x.Tokens {
			h := doc[i+j]
			if h != w && !(x.Prefix && j == len(x.Tokens)-1 && strings.HasPrefix(h, w)) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func searchDocTokens(e *trail.Event) []string {
	var doc []string
	for _, f := range trail.SearchFields(e) {
		doc = append(doc, trail.SearchTokens(f.Text)...)
	}
	return doc
}

// checkIndexSuperset fails when q matches e but its index lookup would
// not find e: an index would then drop a true match.
func checkIndexSuperset(t *testing.T, q string, e *trail.Event) {
	t.Helper()
	s, err := trail.ParseSearch(q)
	if err != nil {
		return
	}
	x := s.IndexExpr()
	if x == nil {
		return
	}
	doc := searchDocTokens(e)
	if s.Match(e) && !indexHolds(x, doc) {
		t.Fatalf("%q matches the event but its index lookup %+v does not", q, x)
	}
	if got, want := trail.IndexHolds(x, []byte(strings.Join(doc, " "))), indexHolds(x, doc); got != want {
		t.Fatalf("the index lookup of %q over the document: %v, want %v", q, got, want)
	}
}

func TestSearchIndexExpr(t *testing.T) {
	e := searchEvent()
	for q, want := range map[string]string{
		"ada":                      `"ada"`,
		`"ada lovelace" zür*`:      `and("ada lovelace" "zür"*)`,
		"ip:203.0.113.*":           `"203 0 113"`,
		"ada OR NOT x":             "",
		"NOT x":                    "",
		"ada -x":                   `"ada"`,
		"(a OR b) c":               `and(or("a" "b") "c")`,
		"metadata.ticket:OPS-1234": `"ops 1234"`,
	} {
		s, err := trail.ParseSearch(q)
		if err != nil {
			t.Fatal(err)
		}
		if got := showExpr(s.IndexExpr()); got != want {
			t.Errorf("IndexExpr(%q) = %s, want %s", q, got, want)
		}
		checkIndexSuperset(t, q, e)
	}
}

func showExpr(x *trail.SearchIndexExpr) string {
	switch {
	case x == nil:
		return ""
	case x.Op == "phrase":
		s := `"` + strings.Join(x.Tokens, " ") + `"`
		if x.Prefix {
			s += "*"
		}
		return s
	}
	var kids []string
	for _, k := range x.Kids {
		kids = append(kids, showExpr(k))
	}
	return x.Op + "(" + strings.Join(kids, " ") + ")"
}

func TestIndexHolds(t *testing.T) {
	doc := []byte("ada lovelace 203 0 113 7 zürich")
	for q, want := range map[string]bool{
		"ada":               true,
		"lovelace":          true,
		"ovelace":           false, // within a word
		"lovelac":           false,
		"lovelac*":          true,
		`"ada lovelace"`:    true,
		`"lovelace ada"`:    false,
		`"lovelace 203"`:    true, // across two strings: the index narrows, Match decides
		"ip:203.0.113.*":    true,
		"ip:203.0.11*":      true,
		"ip:203.0.114.*":    false,
		"zürich":            true,
		"7":                 true,
		"ada OR babbage":    true,
		"ada babbage":       false,
		"(ada OR x) zür*":   true,
		"-babbage ada":      true,
		"metadata.k:7 zü*x": false,
	} {
		s, err := trail.ParseSearch(q)
		if err != nil {
			t.Fatal(err)
		}
		if got := trail.IndexHolds(s.IndexExpr(), doc); got != want {
			t.Errorf("IndexHolds(%q) = %v, want %v", q, got, want)
		}
	}
}
