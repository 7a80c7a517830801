package trail

import (
	"fmt"
	"strings"
	"unicode"
)

// searchTok is one lexeme of a query: an operator, a parenthesis, or a
// term (a word or a phrase, with the field it names).
type searchTok struct {
	op    string // "(", ")", "AND", "OR", "NOT"; "" for a term
	text  string // as written
	field string
	value string
}

// maxSearchDepth bounds how deeply a query nests.
const maxSearchDepth = 16

type searchParser struct {
	toks  []searchTok
	i     int
	terms int
	depth int
	err   error
}

func (p *searchParser) fail(msg string) {
	if p.err == nil {
		p.err = Invalid("q", msg)
	}
}

// lexSearch splits a query into lexemes; an unterminated quote becomes a
// lexeme that the parser refuses.
func lexSearch(q string) []searchTok {
	var toks []searchTok
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')':
			toks = append(toks, searchTok{op: string(c), text: string(c)})
			i++
		case c == '"':
			end := strings.IndexByte(q[i+1:], '"')
			if end < 0 {
				return append(toks, searchTok{op: "unterminated", text: q[i:]})
			}
			toks = append(toks, searchTok{text: q[i : i+end+2], value: q[i+1 : i+1+end]})
			i += end + 2
		default:
			j := i
			for j < len(q) && !strings.ContainsRune(" \t\n\r()\"", rune(q[j])) {
				j++
			}
			word := q[i:j]
			if strings.HasSuffix(word, ":") && j < len(q) && q[j] == '"' {
				end := strings.IndexByte(q[j+1:], '"')
				if end < 0 {
					return append(toks, searchTok{op: "unterminated", text: q[i:]})
				}
				toks = append(toks, searchTok{text: q[i : j+end+2], field: strings.TrimSuffix(word, ":"), value: q[j+1 : j+1+end]})
				i = j + end + 2
				continue
			}
			toks = append(toks, wordTok(word))
			i = j
		}
	}
	return toks
}

// wordTok classifies a bare word: an operator, a negated term, a
// field:value term or a plain word.
func wordTok(word string) searchTok {
	switch {
	case word == "AND" || word == "OR" || word == "NOT":
		return searchTok{op: word, text: word}
	case word[0] == '-':
		return searchTok{op: "-", text: word}
	}
	if name, value, ok := strings.Cut(word, ":"); ok && looksLikeField(name) && !strings.HasPrefix(value, "//") {
		return searchTok{text: word, field: name, value: value}
	}
	return searchTok{text: word, value: word}
}

// looksLikeField reports whether name is written like a field path, so
// that a misspelt field is an error rather than two searched words.
func looksLikeField(name string) bool {
	if name == "" || !unicode.IsLetter(rune(name[0])) {
		return false
	}
	return !strings.ContainsFunc(name, func(r rune) bool {
		return !(r == '.' || r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	})
}

func (p *searchParser) peek() *searchTok {
	if p.i < len(p.toks) {
		return &p.toks[p.i]
	}
	return nil
}

func (p *searchParser) or() searchNode {
	nodes := orNode{p.and()}
	for t := p.peek(); p.err == nil && t != nil && t.op == "OR"; t = p.peek() {
		p.i++
		nodes = append(nodes, p.and())
	}
	if len(nodes) == 1 {
		return nodes[0]
	}
	return nodes
}

func (p *searchParser) and() searchNode {
	nodes := andNode{p.unary()}
	for t := p.peek(); p.err == nil && t != nil && t.op != "OR" && t.op != ")"; t = p.peek() {
		if t.op == "AND" {
			p.i++
		}
		nodes = append(nodes, p.unary())
	}
	if len(nodes) == 1 {
		return nodes[0]
	}
	return nodes
}

func (p *searchParser) unary() searchNode {
	t := p.peek()
	switch {
	case p.err != nil:
		return nil
	case t == nil:
		p.fail("ends where a word, phrase or ( was expected")
		return nil
	case t.op == "NOT":
		p.i++
		return notNode{p.nested(p.unary)}
	case t.op == "-" && t.text == "-":
		p.i++
		return notNode{p.nested(p.unary)}
	case t.op == "-":
		p.toks[p.i] = wordTok(t.text[1:]) // the term after the -
		return notNode{p.nested(p.unary)}
	}
	return p.primary()
}

// nested runs f one level deeper, refusing queries nested too deeply.
func (p *searchParser) nested(f func() searchNode) searchNode {
	if p.depth++; p.depth > maxSearchDepth {
		p.fail(fmt.Sprintf("nests more than %d levels deep", maxSearchDepth))
		return nil
	}
	defer func() { p.depth-- }()
	return f()
}

func (p *searchParser) primary() searchNode {
	t := p.peek()
	if t == nil {
		p.fail("ends where a word, phrase or ( was expected")
		return nil
	}
	switch t.op {
	case "(":
		p.i++
		n := p.nested(p.or)
		if c := p.peek(); p.err == nil && (c == nil || c.op != ")") {
			p.fail("has a ( that is not closed")
		}
		p.i++
		return n
	case "":
		p.i++
		return p.term(t)
	case "unterminated":
		p.fail(fmt.Sprintf("has a quote that is not closed: %s", t.text))
	default:
		p.fail(fmt.Sprintf("has %s where a word, phrase or ( was expected", t.op))
	}
	return nil
}

// term builds the node of a word or phrase.
func (p *searchParser) term(t *searchTok) searchNode {
	if p.terms++; p.terms > MaxSearchTerms {
		p.fail(fmt.Sprintf("has more than %d words and phrases", MaxSearchTerms))
		return nil
	}
	n := &termNode{}
	if t.field != "" {
		if n.field = searchField(t.field); n.field == "" {
			p.fail(fmt.Sprintf("names an unknown field %q (fields: action, id, trace_id, actor.type, actor.id, actor.name, "+
				"actor.metadata.KEY, target.type, target.id, target.name, target.metadata.KEY, ip, user_agent, location, metadata.KEY)", t.field))
			return nil
		}
	}
	value := t.value
	n.prefix = strings.HasSuffix(value, "*")
	value = strings.TrimSuffix(value, "*")
	n.tokens = SearchTokens(value)
	if n.prefix && (value == "" || !isWordRune(lastRune(value))) {
		n.tokens = append(n.tokens, "") // "113.*": any word after
	}
	if len(n.tokens) == 0 || len(n.tokens) == 1 && n.tokens[0] == "" {
		p.fail(fmt.Sprintf("%s has no letters or digits to search for", t.text))
		return nil
	}
	return n
}

// searchField returns the field a term names, "" when none.
func searchField(name string) string {
	if a, ok := searchAliases[name]; ok {
		return a
	}
	for _, f := range searchFields {
		if name == f && !strings.HasSuffix(f, ".") || strings.HasSuffix(f, ".") && strings.HasPrefix(name, f) &&
			len(name) > len(f) && !strings.HasSuffix(name, ".") {
			return name
		}
	}
	return ""
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

func lastRune(s string) rune {
	r := []rune(s)
	return r[len(r)-1]
}
