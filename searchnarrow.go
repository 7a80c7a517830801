package trail

import "strings"

// TokenQuery is a condition on an event's set of search tokens (the
// SearchTokens of its SearchFields) that every event a Search matches
// meets: what a store's full-text index can look up. Events that a Search
// does not match may meet it too (a phrase's words out of order, a word in
// another field, whatever NOT excludes), so a store that narrows its
// candidates with it still applies Match to each of them.
type TokenQuery struct {
	// And holds when each of its queries holds, Or when one does; when
	// both are empty, the query is the single token Token.
	And, Or []*TokenQuery
	Token   string
	Prefix  bool // Token need only begin one of the event's tokens
}

// Narrow returns the TokenQuery that every event s matches meets, or nil
// when it cannot narrow (a query of NOT alone matches events without any
// of its words).
func (s *Search) Narrow() *TokenQuery { return narrowNode(s.root) }

func narrowNode(n searchNode) *TokenQuery {
	switch n := n.(type) {
	case andNode:
		var and []*TokenQuery
		for _, c := range n {
			if t := narrowNode(c); t != nil {
				and = append(and, t)
			}
		}
		return tokenAnd(and)
	case orNode:
		or := make([]*TokenQuery, len(n))
		for i, c := range n {
			if or[i] = narrowNode(c); or[i] == nil {
				return nil // one branch may match anything
			}
		}
		return &TokenQuery{Or: or}
	case *termNode:
		var and []*TokenQuery
		for i, tok := range n.tokens {
			if tok != "" { // "113.*" ends in any word
				and = append(and, &TokenQuery{Token: tok, Prefix: n.prefix && i == len(n.tokens)-1})
			}
		}
		return tokenAnd(and)
	}
	return nil // NOT cannot narrow
}

func tokenAnd(and []*TokenQuery) *TokenQuery {
	switch len(and) {
	case 0:
		return nil
	case 1:
		return and[0]
	}
	return &TokenQuery{And: and}
}

// Format writes t in a store's query syntax: its groups in parentheses,
// joined by and and or (like " & " and " | "), each token as word writes
// it. A nil t is "".
func (t *TokenQuery) Format(and, or string, word func(token string, prefix bool) string) string {
	join := func(ts []*TokenQuery, op string) string {
		s := make([]string, len(ts))
		for i, c := range ts {
			s[i] = c.Format(and, or, word)
		}
		return "(" + strings.Join(s, op) + ")"
	}
	switch {
	case t == nil:
		return ""
	case len(t.And) > 0:
		return join(t.And, and)
	case len(t.Or) > 0:
		return join(t.Or, or)
	}
	return word(t.Token, t.Prefix)
}

// String writes t with & for AND, | for OR and a trailing * for a prefix
// (* alone when t is nil, which any event meets), for logs and tests.
func (t *TokenQuery) String() string {
	if t == nil {
		return "*"
	}
	return t.Format(" & ", " | ", func(token string, prefix bool) string {
		if prefix {
			return token + "*"
		}
		return token
	})
}
