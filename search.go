package trail

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxSearchLen bounds a full-text query, in bytes, and MaxSearchTerms the
// words and phrases in it.
const (
	MaxSearchLen   = 1000
	MaxSearchTerms = 32
)

// Search is a parsed full-text query (the q parameter): words, "phrases"
// and field:value terms, combined with AND (also implied by a space), OR
// and NOT (or a leading -), grouped with parentheses. A word or phrase
// matches an event when one string of the event (action, actor, targets,
// context, metadata keys and values, ids) holds its words in a row, case
// not minding; a trailing * matches the last word as a prefix
// (ip:203.0.113.*). Match is the reference every store agrees with.
type Search struct {
	text string
	root searchNode
	idx  *SearchIndexExpr // root's index lookup, nil when there is none
}

// String returns the query as it was given.
func (s *Search) String() string { return s.text }

// searchFields are the fields a term may name; a name ending in "." takes
// any path under it (metadata.ticket, actor.metadata.team).
var searchFields = []string{"action", "id", "trace_id", "actor.type", "actor.id", "actor.name",
	"actor.metadata.", "target.type", "target.id", "target.name", "target.metadata.",
	"ip", "user_agent", "location", "metadata."}

// searchAliases are other names of fields.
var searchAliases = map[string]string{"context.ip": "ip", "context.user_agent": "user_agent",
	"context.location": "location", "actor": "actor.", "target": "target.", "targets": "target.",
	"metadata": "metadata."}

// searchNode is a node of a parsed query.
type searchNode interface {
	match(f *searchDoc) bool
}

type (
	andNode  []searchNode
	orNode   []searchNode
	notNode  struct{ n searchNode }
	termNode struct {
		field  string   // "" for any field; ends in "." for a path prefix
		tokens []string // in a row; the last one a prefix when prefix
		prefix bool
	}
)

func (n andNode) match(d *searchDoc) bool {
	for _, c := range n {
		if !c.match(d) {
			return false
		}
	}
	return true
}

func (n orNode) match(d *searchDoc) bool {
	return slices.ContainsFunc(n, func(c searchNode) bool { return c.match(d) })
}

func (n notNode) match(d *searchDoc) bool { return !n.n.match(d) }

func (t *termNode) match(d *searchDoc) bool {
	for _, v := range d.values {
		if t.field != "" && !fieldCovers(t.field, v.field) {
			continue
		}
		if containsRun(v.tokens, t.tokens, t.prefix) {
			return true
		}
	}
	return false
}

// fieldCovers reports whether a term naming field matches a value at
// path: the field's own values and those of every path under it.
func fieldCovers(field, path string) bool {
	field = strings.TrimSuffix(field, ".")
	return path == field || strings.HasPrefix(path, field) && path[len(field)] == '.'
}

// containsRun reports whether want appears in a row in have; with prefix,
// its last token need only begin the token there.
func containsRun(have, want []string, prefix bool) bool {
	for i := 0; i+len(want) <= len(have); i++ {
		ok := true
		for j, w := range want {
			h := have[i+j]
			if h != w && !(prefix && j == len(want)-1 && strings.HasPrefix(h, w)) {
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

// Match reports whether e matches the query. It first looks the query's
// index lookup up in e's index document, which is cheaper than telling
// e's fields apart: the lookup holds for every match (IndexExpr), so most
// events a search passes over are refused there.
func (s *Search) Match(e *Event) bool {
	if s.idx != nil && !s.idx.holds(AppendSearchWords(make([]byte, 0, 512), e)) {
		return false
	}
	return s.root.match(newSearchDoc(e))
}

// SearchTokens splits text into the words a search compares: runs of
// letters and digits, lowercased.
func SearchTokens(text string) []string {
	var out []string
	start := -1
	for i, r := range text {
		word := unicode.IsLetter(r) || unicode.IsDigit(r)
		switch {
		case word && start < 0:
			start = i
		case !word && start >= 0:
			out = append(out, strings.ToLower(text[start:i]))
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, strings.ToLower(text[start:]))
	}
	return out
}

// searchValue is one string of an event with the field it is at.
type searchValue struct {
	field  string
	tokens []string
}

// searchDoc is an event as a search sees it.
type searchDoc struct{ values []searchValue }

// SearchField is one string of an event and the path of the field that
// holds it, as a search sees them.
type SearchField struct {
	Path, Text string
}

// SearchFields returns every string of e that a search looks at, with its
// field: what a store's full-text index must hold for each event.
func SearchFields(e *Event) []SearchField {
	fs := []SearchField{{"id", e.ID}, {"action", e.Action}, {"trace_id", e.TraceID},
		{"actor.type", e.Actor.Type}, {"actor.id", e.Actor.ID}, {"actor.name", e.Actor.Name},
		{"ip", e.Context.IP}, {"user_agent", e.Context.UserAgent}, {"location", e.Context.Location}}
	fs = appendJSONFields(fs, "actor.metadata", e.Actor.Metadata)
	for _, t := range e.Targets {
		fs = append(fs, SearchField{"target.type", t.Type}, SearchField{"target.id", t.ID}, SearchField{"target.name", t.Name})
		fs = appendJSONFields(fs, "target.metadata", t.Metadata)
	}
	fs = appendJSONFields(fs, "metadata", e.Metadata)
	return slices.DeleteFunc(fs, func(f SearchField) bool { return f.Text == "" })
}

// appendJSONFields adds the keys and scalar values of a JSON document
// under path: a key is searchable at the path of its object, a value at
// its own path (array items at their array's).
func appendJSONFields(fs []SearchField, path string, raw json.RawMessage) []SearchField {
	if len(raw) == 0 {
		return fs
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return fs
	}
	return appendValue(fs, path, v)
}

func appendValue(fs []SearchField, path string, v any) []SearchField {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fs = append(fs, SearchField{path, k})
			fs = appendValue(fs, path+"."+k, v[k])
		}
	case []any:
		for _, item := range v {
			fs = appendValue(fs, path, item)
		}
	case string:
		fs = append(fs, SearchField{path, v})
	case float64, bool:
		b, _ := json.Marshal(v)
		fs = append(fs, SearchField{path, string(b)})
	}
	return fs
}

func newSearchDoc(e *Event) *searchDoc {
	fs := SearchFields(e)
	d := &searchDoc{values: make([]searchValue, len(fs))}
	for i, f := range fs {
		d.values[i] = searchValue{f.Path, SearchTokens(f.Text)}
	}
	return d
}

// ParseSearch parses a full-text query. Errors name the parameter q and
// what is wrong.
func ParseSearch(q string) (*Search, error) {
	switch {
	case !utf8.ValidString(q):
		return nil, Invalid("q", "must be valid UTF-8")
	case len(q) > MaxSearchLen:
		return nil, Invalid("q", fmt.Sprintf("must be at most %d bytes", MaxSearchLen))
	case strings.TrimSpace(q) == "":
		return nil, Invalid("q", "must not be empty")
	}
	p := &searchParser{toks: lexSearch(q)}
	if p.err != nil {
		return nil, p.err
	}
	root := p.or()
	if p.err == nil && p.i < len(p.toks) {
		p.fail(fmt.Sprintf("unexpected %q", p.toks[p.i].text))
	}
	if p.err != nil {
		return nil, p.err
	}
	return &Search{text: q, root: root, idx: indexExpr(root)}, nil
}
