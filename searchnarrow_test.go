package trail_test

import (
	"strings"
	"testing"

	"github.com/trailhq/trail"
)

// indexDoc is what a full-text index holds of an event: the words of
// every string of it in a row, and the pairs of each string.
type indexDoc struct {
	words []string
	pairs map[string]bool
}

// indexHolds evaluates x as a full-text index over e's document would:
// its words in a row, and its pairs each among the document's (when d
// has pairs).
func indexHolds(x *trail.SearchIndexExpr, d indexDoc) bool {
	switch x.Op {
	case "and", "or":
		for _, k := range x.Kids {
			if indexHolds(k, d) != (x.Op == "and") {
				return x.Op == "or"
			}
		}
		return x.Op == "and"
	}
	for _, p := range x.Pairs {
		if d.pairs != nil && !d.pairs[p] {
			return false
		}
	}
	doc := d.words
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

// searchDocTokens returns the tokens of every SearchFields text of e, in
// order.
func searchDocTokens(e *trail.Event) []string { return searchIndexDoc(e).words }

// searchIndexDoc returns what a full-text index holds of e.
func searchIndexDoc(e *trail.Event) indexDoc {
	d := indexDoc{pairs: map[string]bool{}}
	for _, f := range trail.SearchFields(e) {
		toks := trail.SearchTokens(f.Text)
		d.words = append(d.words, toks...)
		for _, p := range trail.SearchPairs(toks) {
			d.pairs[p] = true
		}
	}
	return d
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
	doc := searchIndexDoc(e)
	if s.Match(e) && !indexHolds(x, doc) {
		t.Fatalf("%q matches the event but its index lookup %+v does not", q, x)
	}
	if got, want := trail.IndexHolds(x, []byte(strings.Join(doc.words, " "))), indexHolds(x, indexDoc{words: doc.words}); got != want {
		t.Fatalf("the index lookup of %q over the document: %v, want %v", q, got, want)
	}
}

func TestSearchIndexExpr(t *testing.T) {
	e := searchEvent()
	for q, want := range map[string]string{
		"ada":                      `"ada"`,
		"ada OR NOT x":             "",
		"NOT x":                    "",
		"ada -x":                   `"ada"`,
		"(a OR b) c":               `and(or("a" "b") "c")`,
		"metadata.ticket:OPS-1234": `"ops 1234"`,
		`"Analytical Engines"`:     `"analytical engines"[analytical engines]`,
		"ip:203.0.113.*":           `"203 0 113"[203 0|0 113]`,
		`"ada lovelace" zür*`:      `and("ada lovelace"[ada lovelace] "zür"*)`,
		`"user 00042"`:             `"user 00042"`,
		`"plan q4*"`:               `"plan q4"*`,
		`"q4 plan*"`:               `"q4 plan"*`,
		`"a b c*"`:                 `"a b c"*[a b]`,
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
		if len(x.Pairs) > 0 {
			s += "[" + strings.Join(x.Pairs, "|") + "]"
		}
		return s
	}
	var kids []string
	for _, k := range x.Kids {
		kids = append(kids, showExpr(k))
	}
	return x.Op + "(" + strings.Join(kids, " ") + ")"
}

// FuzzSearchIndexSuperset checks, for fuzzed text in an event and a fuzzed
// query, that a query matching the event has an index lookup (words and
// pairs) that finds it.
func FuzzSearchIndexSuperset(f *testing.F) {
	for _, c := range [][2]string{{"alpha beta admin", `"beta admin"`}, {"203.0.113.7", "ip:203.0.113.*"},
		{"OPS-1234 q4 plan", `"1234 q4 pl*"`}, {"x y z", `"x y" OR -z`}} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, text, q string) {
		e := searchEvent()
		e.Actor.Name, e.Context.IP = text, text
		checkIndexSuperset(t, q, e)
	})
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
