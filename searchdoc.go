package trail

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// AppendSearchWords appends to dst the words of e that a full-text index
// holds: SearchTokens of every SearchFields text, in that order, separated
// by single spaces (a word holds no space). It is what joining those
// tokens gives, built without decoding metadata into maps or allocating a
// word at a time: stores index every event with it, so it is on the way
// of all ingest.
func AppendSearchWords(dst []byte, e *Event) []byte {
	w := wordWriter{b: dst, base: len(dst)}
	for _, s := range []string{e.ID, e.Action, e.TraceID, e.Actor.Type, e.Actor.ID, e.Actor.Name,
		e.Context.IP, e.Context.UserAgent, e.Context.Location} {
		w.text(s)
	}
	w.json(e.Actor.Metadata)
	for _, t := range e.Targets {
		w.text(t.Type)
		w.text(t.ID)
		w.text(t.Name)
		w.json(t.Metadata)
	}
	w.json(e.Metadata)
	return w.b
}

// wordWriter appends words to b, a space before each but the first after
// base.
type wordWriter struct {
	b    []byte
	base int
}

// text appends the words of s as SearchTokens splits and lowercases them.
func (w *wordWriter) text(s string) {
	inWord := false
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			word := 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || 'A' <= c && c <= 'Z'
			if word {
				w.start(&inWord)
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				w.b = append(w.b, c)
			}
			inWord = word
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		word := unicode.IsLetter(r) || unicode.IsDigit(r)
		if word {
			w.start(&inWord)
			w.b = utf8.AppendRune(w.b, unicode.ToLower(r))
		}
		inWord = word
	}
}

// start separates a new word from the one before it.
func (w *wordWriter) start(inWord *bool) {
	if !*inWord && len(w.b) > w.base {
		w.b = append(w.b, ' ')
	}
}

// json appends the words of a JSON document as appendJSONFields lists
// them: object keys in sorted order, each followed by its value's words;
// array items in order; numbers as encoding/json prints a float64. A
// document that json.Unmarshal refuses adds nothing.
func (w *wordWriter) json(raw []byte) {
	if len(raw) == 0 || !json.Valid(raw) {
		return
	}
	mark := len(w.b)
	if _, ok := w.value(raw, 0); !ok {
		w.b = w.b[:mark]
	}
}

// value appends the words of the valid JSON value at raw[i:] and returns
// the index after it; false when json.Unmarshal would refuse it (a number
// out of float64's range).
func (w *wordWriter) value(raw []byte, i int) (int, bool) {
	i = skipSpace(raw, i)
	switch raw[i] {
	case '{':
		return w.object(raw, i)
	case '[':
		i = skipSpace(raw, i+1)
		if raw[i] == ']' {
			return i + 1, true
		}
		for {
			var ok bool
			if i, ok = w.value(raw, i); !ok {
				return 0, false
			}
			i = skipSpace(raw, i)
			if raw[i] == ']' {
				return i + 1, true
			}
			i++ // ','
		}
	case '"':
		end := stringEnd(raw, i) + 1
		w.text(jsonString(raw[i:end]))
		return end, true
	case 't':
		w.text("true")
		return i + 4, true
	case 'f':
		w.text("false")
		return i + 5, true
	case 'n':
		return i + 4, true
	}
	end := literalEnd(raw, i)
	s, ok := jsonNumber(raw[i:end])
	w.text(s)
	return end, ok
}

// member is an object's name, decoded, and where its value starts.
type member struct {
	name string
	at   int
}

// object appends the words of the object at raw[i:] in the order of its
// decoded names; of a name given twice, the last value counts, as in a
// map.
func (w *wordWriter) object(raw []byte, i int) (int, bool) {
	var ms []member
	i = skipSpace(raw, i+1)
	for raw[i] != '}' {
		end := stringEnd(raw, i) + 1
		name := jsonString(raw[i:end])
		i = skipSpace(raw, end) + 1 // ':'
		ms = append(ms, member{name, i})
		i = skipSpace(raw, skipValue(raw, i))
		if raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
	}
	slices.SortStableFunc(ms, func(a, b member) int { return strings.Compare(a.name, b.name) })
	for k, m := range ms {
		if k+1 < len(ms) && ms[k+1].name == m.name {
			continue
		}
		w.text(m.name)
		if _, ok := w.value(raw, m.at); !ok {
			return 0, false
		}
	}
	return i + 1, true
}

// skipValue returns the index after the valid JSON value at raw[i:].
func skipValue(raw []byte, i int) int {
	depth := 0
	for {
		i = skipSpace(raw, i)
		switch raw[i] {
		case '"':
			i = stringEnd(raw, i) + 1
		case '{', '[':
			depth++
			i++
			continue
		case '}', ']':
			depth--
			i++
		case ',', ':':
			i++
			continue
		default:
			i = literalEnd(raw, i)
		}
		if depth == 0 {
			return i
		}
	}
}

// literalEnd returns the index after the number, true, false or null at
// raw[i:].
func literalEnd(raw []byte, i int) int {
	for i < len(raw) && ('a' <= raw[i] && raw[i] <= 'z' || '0' <= raw[i] && raw[i] <= '9' ||
		raw[i] == '+' || raw[i] == '-' || raw[i] == '.' || raw[i] == 'E') {
		i++
	}
	return i
}

func skipSpace(raw []byte, i int) int {
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
		i++
	}
	return i
}

// jsonString decodes a valid JSON string literal, quotes included, as
// json.Unmarshal does (invalid UTF-8 becomes U+FFFD).
func jsonString(lit []byte) string {
	body := lit[1 : len(lit)-1]
	if bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body) {
		return string(body)
	}
	var s string
	_ = json.Unmarshal(lit, &s) // valid: checked by json.Valid
	return s
}

// jsonNumber returns a JSON number as encoding/json prints it once decoded
// into a float64; false when it is out of float64's range.
func jsonNumber(lit []byte) (string, bool) {
	digits := lit
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) <= 15 && bytes.IndexAny(digits, ".eE") < 0 {
		return string(lit), true // an integer a float64 holds exactly, printed the same
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil {
		return "", false
	}
	b, err := json.Marshal(f)
	return string(b), err == nil
}
