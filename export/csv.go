package export

import (
	"bytes"
	"errors"
	"slices"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// csvEvent is what a CSV row shows of an event, as raw JSON values picked
// out of the event's stored JSON (strings still quoted): reading them
// costs far less than decoding the whole event, and targets and metadata
// are JSON in their cells anyway.
type csvEvent struct {
	id, tenant, action, occurredAt, receivedAt []byte
	actorType, actorID, actorName, actorMeta   []byte
	targets, metadata, version                 []byte
	ip, userAgent, location, traceID, extra    []byte
	// The first target, flattened, for spreadsheets that filter by it.
	targetType, targetID, targetName []byte
}

var errEventJSON = errors.New("export: malformed event JSON")

// appendCSVHeader appends the fixed first row of a CSV export.
func appendCSVHeader(dst []byte) []byte {
	for i, h := range CSVHeader {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, h...)
	}
	return append(dst, '\n')
}

// appendCSVRow appends the CSV row of the event whose JSON (as json.Marshal
// gives it for a trail.Event) is data. The row is byte for byte what
// encoding/csv writes for the decoded event's cells. scratch is reused for
// unescaping strings and returned.
func appendCSVRow(dst, scratch, data []byte) ([]byte, []byte, error) {
	var e csvEvent
	s := jsonScanner{b: data}
	s.event(&e)
	if s.err != nil {
		return dst, scratch, s.err
	}
	if s.firstTarget(&e); s.err != nil {
		return dst, scratch, s.err
	}
	var err error
	for i, cell := range [...][]byte{e.id, e.occurredAt, e.action, e.actorType, e.actorID, e.actorName,
		e.targets, e.ip, e.userAgent, e.location, e.traceID, e.tenant, e.metadata,
		e.version, e.receivedAt, e.actorMeta, e.targetType, e.targetID, e.targetName} {
		if i > 0 {
			dst = append(dst, ',')
		}
		switch i {
		case 1, 14:
			dst, scratch, err = appendTimeCell(dst, scratch, cell)
		case 6:
			if len(cell) == 0 || string(cell) == "null" {
				cell = []byte("[]")
			}
			dst = appendCSVField(dst, cell)
		case 12, 15:
			dst = appendCSVField(dst, cell)
		case 13:
			dst, err = appendIntCell(dst, cell)
		default:
			dst, scratch, err = appendStringCell(dst, scratch, cell)
		}
		if err != nil {
			return dst, scratch, err
		}
	}
	return append(dst, '\n'), scratch, nil
}

// appendIntCell appends the JSON integer raw; absent or null is 0, as
// decoding leaves an int.
func appendIntCell(dst, raw []byte) ([]byte, error) {
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return append(dst, '0'), nil
	case string(raw) == "-" || raw[0] == '-' && raw[1] == '0' || raw[0] == '0' && len(raw) > 1:
		return dst, errEventJSON
	}
	for i, c := range raw {
		if (c < '0' || c > '9') && (i > 0 || c != '-') || i > 18 {
			return dst, errEventJSON
		}
	}
	return append(dst, raw...), nil
}

// appendStringCell appends the JSON string raw as a CSV field; an absent
// or null value is an empty field. A string without escapes is its own
// text, copied in one pass.
func appendStringCell(dst, scratch, raw []byte) ([]byte, []byte, error) {
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return dst, scratch, nil
	case len(raw) < 2 || raw[0] != '"':
		return dst, scratch, errEventJSON
	}
	text, quote := raw[1:len(raw)-1], false
	for _, c := range text {
		switch csvClass[c] {
		case csvEscape:
			scratch, err := jsontext.AppendUnquote(scratch[:0], raw)
			if err != nil {
				return dst, scratch, errEventJSON
			}
			if formulaCell(scratch) {
				scratch = slices.Insert(scratch, 0, '\'')
			}
			return appendCSVField(dst, scratch), scratch, nil
		case csvQuote:
			quote = true
		}
	}
	if formulaCell(text) {
		scratch = append(append(scratch[:0], '\''), text...)
		return appendCSVField(dst, scratch), scratch, nil
	}
	if quote || needsQuotesAtStart(text) {
		return appendQuoted(dst, text), scratch, nil
	}
	return append(dst, text...), scratch, nil
}

// formulaCell reports whether a spreadsheet could read cell as a formula
// (CSV injection): it starts with '=', '+', '-', '@', a tab or a carriage
// return. The CSV export writes such a cell with a single quote before it,
// as OWASP advises, so that a value an attacker planted (a failed
// sign-in's email "=1+cmd@evil.test", a user agent "=HYPERLINK(...)")
// opens as text. Every string cell is treated so; targets and metadata are
// JSON and start with '[' or '{'. JSON Lines exports stay exact.
func formulaCell(cell []byte) bool {
	if len(cell) == 0 {
		return false
	}
	switch cell[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}

// Byte classes for CSV fields: a backslash starts a JSON escape; the
// others make encoding/csv quote a field.
const (
	csvPlain = iota
	csvEscape
	csvQuote
)

var csvClass = [256]uint8{'\\': csvEscape, ',': csvQuote, '"': csvQuote, '\r': csvQuote, '\n': csvQuote}

// appendTimeCell appends a JSON time as RFC 3339 in UTC. Stored times are
// already UTC, so they are copied; any other offset is converted.
func appendTimeCell(dst, scratch, raw []byte) ([]byte, []byte, error) {
	if len(raw) > 2 && raw[0] == '"' && raw[len(raw)-2] == 'Z' && bytes.IndexByte(raw, '\\') < 0 {
		return appendCSVField(dst, raw[1:len(raw)-1]), scratch, nil
	}
	if len(raw) == 0 || string(raw) == "null" {
		raw = []byte(`"0001-01-01T00:00:00Z"`) // what a zero time.Time shows
	}
	var t time.Time
	if err := t.UnmarshalJSON(raw); err != nil {
		return dst, scratch, errEventJSON
	}
	scratch = t.UTC().AppendFormat(scratch[:0], time.RFC3339Nano)
	return appendCSVField(dst, scratch), scratch, nil
}

// appendCSVField appends one field the way encoding/csv's Writer does
// (comma separated, "\n" line ends): quoted when it holds a comma, a
// quote, a line break, starts with a space, or is `\.`.
func appendCSVField(dst, field []byte) []byte {
	for _, c := range field {
		if csvClass[c] == csvQuote {
			return appendQuoted(dst, field)
		}
	}
	if needsQuotesAtStart(field) {
		return appendQuoted(dst, field)
	}
	return append(dst, field...)
}

// needsQuotesAtStart reports the other reasons encoding/csv quotes a
// field: it starts with a space, or is `\.`.
func needsQuotesAtStart(field []byte) bool {
	if len(field) == 0 {
		return false
	}
	if c := field[0]; c < utf8.RuneSelf {
		return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' ||
			string(field) == `\.`
	}
	r, _ := utf8.DecodeRune(field)
	return unicode.IsSpace(r)
}

// appendQuoted appends field in quotes, its quotes doubled.
func appendQuoted(dst, field []byte) []byte {
	dst = slices.Grow(dst, 2*len(field)+2)
	n := len(dst)
	dst = dst[:n+2*len(field)+2]
	dst[n] = '"'
	n++
	for _, c := range field {
		dst[n] = c
		n++
		if c == '"' {
			dst[n] = '"'
			n++
		}
	}
	dst[n] = '"'
	return dst[:n+1]
}

// jsonScanner finds values in JSON that json.Marshal wrote. It checks
// structure, not every byte: values it copies are checked where they are
// used, and the stored JSON was valid when it was written.
type jsonScanner struct {
	b   []byte
	i   int
	err error
}

// event reads the members of a trail.Event object into e.
func (s *jsonScanner) event(e *csvEvent) {
	for ok := s.open(); ok; ok = s.more() {
		switch string(s.key()) {
		case `"id"`:
			e.id = s.value()
		case `"tenant"`:
			e.tenant = s.value()
		case `"action"`:
			e.action = s.value()
		case `"occurred_at"`:
			e.occurredAt = s.value()
		case `"received_at"`:
			e.receivedAt = s.value()
		case `"version"`:
			e.version = s.value()
		case `"actor"`:
			s.object(e, true)
		case `"targets"`:
			e.targets = s.value()
		case `"context"`:
			s.object(e, false)
		case `"metadata"`:
			e.metadata = s.value()
		case `"trace_id"`:
			e.traceID = s.value()
		default:
			s.value()
		}
	}
	if s.ws(); s.err == nil && s.i != len(s.b) {
		s.err = errEventJSON
	}
}

// object reads the actor (or the context) object into e; null leaves
// them empty, as decoding does.
func (s *jsonScanner) object(e *csvEvent, actor bool) {
	if s.ws(); bytes.HasPrefix(s.b[s.i:], []byte("null")) {
		s.i += 4
		return
	}
	for ok := s.open(); ok; ok = s.more() {
		var dst *[]byte
		switch k := string(s.key()); {
		case actor && k == `"type"`:
			dst = &e.actorType
		case actor && k == `"id"`:
			dst = &e.actorID
		case actor && k == `"name"`:
			dst = &e.actorName
		case actor && k == `"metadata"`:
			dst = &e.actorMeta
		case !actor && k == `"ip"`:
			dst = &e.ip
		case !actor && k == `"user_agent"`:
			dst = &e.userAgent
		case !actor && k == `"location"`:
			dst = &e.location
		default:
			dst = &e.extra
		}
		*dst = s.value()
	}
}

// firstTarget reads the type, id and name of the first of e.targets.
func (s *jsonScanner) firstTarget(e *csvEvent) {
	switch {
	case len(e.targets) == 0 || string(e.targets) == "null":
		return
	case e.targets[0] != '[':
		s.err = errEventJSON
		return
	}
	t := jsonScanner{b: e.targets, i: 1}
	if t.ws(); t.peek() == ']' {
		return
	}
	for ok := t.open(); ok; ok = t.more() {
		var dst *[]byte
		switch string(t.key()) {
		case `"type"`:
			dst = &e.targetType
		case `"id"`:
			dst = &e.targetID
		case `"name"`:
			dst = &e.targetName
		default:
			dst = &e.extra
		}
		*dst = t.value()
	}
	s.err = t.err
}

// open starts reading an object, and reports whether it has a member.
func (s *jsonScanner) open() bool {
	if !s.consume('{') {
		return false
	}
	if s.ws(); s.peek() == '}' {
		s.i++
		return false
	}
	return true
}

// key reads a member's key (still quoted) and the colon after it.
func (s *jsonScanner) key() []byte {
	k := s.value()
	if s.err == nil && k[0] != '"' {
		s.err = errEventJSON
	}
	if !s.consume(':') {
		return nil
	}
	return k
}

// more reads what follows a member's value, and reports whether another
// member follows.
func (s *jsonScanner) more() bool {
	s.ws()
	switch s.peek() {
	case ',':
		s.i++
		return s.err == nil
	case '}':
		s.i++
		return false
	}
	s.fail()
	return false
}

func (s *jsonScanner) fail() {
	if s.err == nil {
		s.i, s.err = len(s.b), errEventJSON
	}
}

// consume skips whitespace and c, or sets the error.
func (s *jsonScanner) consume(c byte) bool {
	if s.ws(); s.peek() == c && s.err == nil {
		s.i++
		return true
	}
	s.fail()
	return false
}

func (s *jsonScanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *jsonScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// value returns the raw JSON value at the scanner and moves past it.
func (s *jsonScanner) value() []byte {
	s.ws()
	start := s.i
	switch s.peek() {
	case '"':
		s.i = skipString(s.b, s.i)
	case '{', '[':
		s.i = skipNested(s.b, s.i)
	case 0, ',', ':', '}', ']':
		s.i = -1
	default:
		s.i = skipScalar(s.b, s.i)
	}
	if s.i < 0 {
		s.i = len(s.b)
		if s.err == nil {
			s.err = errEventJSON
		}
		return nil
	}
	return s.b[start:s.i]
}

// skipString returns the index after the string that starts at b[i], or
// -1 when it does not end.
func skipString(b []byte, i int) int {
	for j := i + 1; ; {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return -1
		}
		j += k
		n := 0 // backslashes before the quote: an odd number escapes it
		for n < j-i-1 && b[j-1-n] == '\\' {
			n++
		}
		j++
		if n%2 == 0 {
			return j
		}
	}
}

// skipScalar returns the index after the number or literal at b[i].
func skipScalar(b []byte, i int) int {
	for ; i < len(b); i++ {
		switch b[i] {
		case ',', ':', '{', '}', '[', ']', '"', ' ', '\t', '\n', '\r':
			return i
		}
	}
	return i
}

// skipNested returns the index after the object or array that starts at
// b[i], or -1 when it does not end.
func skipNested(b []byte, i int) int {
	depth := 0
	for i < len(b) {
		switch b[i] {
		case '"':
			if i = skipString(b, i); i < 0 {
				return -1
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return i + 1
			}
		}
		i++
	}
	return -1
}
