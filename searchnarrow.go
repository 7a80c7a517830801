package trail

import (
	"bytes"
	"strings"
)

// SearchIndexExpr is what a full-text index can look up for a Search: a
// superset of its matches, built from the same SearchTokens that index
// documents hold, so an index that reads it may only narrow the events to
// check with Match, never drop a true match. Fields and NOT are not in it
// (an index of whole events cannot tell fields apart, and NOT a narrows
// nothing).
type SearchIndexExpr struct {
	// Op is "and", "or" or "phrase".
	Op   string
	Kids []*SearchIndexExpr // of "and" and "or"
	// Tokens are a phrase's words in a row; when Prefix, the last one is
	// a prefix.
	Tokens []string
	Prefix bool
	// Pairs are the pairs of adjacent Tokens that SearchPairs makes of
	// every string holding the phrase, for an index that holds them: a
	// phrase of words that are each common narrows by its pairs.
	Pairs []string
}

// SearchPairs returns the pairs of adjacent tokens of one string, as
// SearchTokens splits it, that an index of words without positions may
// hold beside its words, each as "a b" (a token never holds a space): a
// phrase (or field:value, or ip:203.0.113.*) of words that are each in
// most events, but rarely in a row, then narrows by its pairs. Only
// pairs of words likely to be common are made, since a rare word narrows
// by itself: a token with no digits, or of at most three bytes (203, 0,
// q4). A long token with digits (an id, a number) makes no pair.
func SearchPairs(tokens []string) []string {
	var out []string
	for i := 0; i+1 < len(tokens); i++ {
		if pairable(tokens[i]) && pairable(tokens[i+1]) {
			out = append(out, tokens[i]+" "+tokens[i+1])
		}
	}
	return out
}

// pairable reports whether token makes pairs (see SearchPairs).
func pairable(token string) bool {
	return len(token) <= 3 || !strings.ContainsAny(token, "0123456789")
}

// IndexExpr returns the index lookup of s, or nil when an index cannot
// narrow it (a NOT alone, an OR with a NOT in it): then every event is a
// candidate.
func (s *Search) IndexExpr() *SearchIndexExpr { return s.idx }

func indexExpr(n searchNode) *SearchIndexExpr {
	switch n := n.(type) {
	case andNode:
		x := &SearchIndexExpr{Op: "and"}
		for _, c := range n {
			if k := indexExpr(c); k != nil {
				x.Kids = append(x.Kids, k)
			}
		}
		return single(x)
	case orNode:
		x := &SearchIndexExpr{Op: "or"}
		for _, c := range n {
			k := indexExpr(c)
			if k == nil {
				return nil
			}
			x.Kids = append(x.Kids, k)
		}
		return single(x)
	case *termNode:
		tokens, prefix := n.tokens, n.prefix
		if prefix && tokens[len(tokens)-1] == "" { // "113.*": any word after, which an index cannot ask for
			tokens, prefix = tokens[:len(tokens)-1], false
		}
		if len(tokens) == 0 {
			return nil
		}
		whole := tokens // a prefix is no whole token, and is in no pair
		if prefix {
			whole = tokens[:len(tokens)-1]
		}
		return &SearchIndexExpr{Op: "phrase", Tokens: tokens, Prefix: prefix, Pairs: SearchPairs(whole)}
	}
	return nil // notNode
}

// single returns x, its only kid, or nil without kids.
func single(x *SearchIndexExpr) *SearchIndexExpr {
	switch len(x.Kids) {
	case 0:
		return nil
	case 1:
		return x.Kids[0]
	}
	return x
}

// holds reports whether an index over doc, an event's words separated by
// single spaces (AppendSearchWords), would find the event.
func (x *SearchIndexExpr) holds(doc []byte) bool {
	switch x.Op {
	case "and", "or":
		for _, k := range x.Kids {
			if k.holds(doc) != (x.Op == "and") {
				return x.Op == "or"
			}
		}
		return x.Op == "and"
	}
	phrase := []byte(strings.Join(x.Tokens, " "))
	for at := 0; ; {
		i := bytes.Index(doc[at:], phrase)
		if i < 0 {
			return false
		}
		start, end := at+i, at+i+len(phrase)
		if (start == 0 || doc[start-1] == ' ') && (x.Prefix || end == len(doc) || doc[end] == ' ') {
			return true
		}
		at = start + 1
	}
}
