package ledger

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// Canonicalize returns the RFC 8785 (JSON Canonicalization Scheme) form of
// the JSON value b: no whitespace, object members sorted by the UTF-16 code
// units of their names, numbers as ECMAScript prints doubles, strings with
// only '"', '\' and control characters escaped.
//
// JSON that is not I-JSON (RFC 7493) has no canonical form in RFC 8785. So
// that such a value, which older clients may have stored in metadata, never
// stops the ledger, duplicate member names are kept (sorted by name, then
// by canonical value), invalid UTF-8 and lone surrogates become U+FFFD, and
// numbers beyond the double range become ±1.7976931348623157e+308. Valid
// I-JSON is unaffected by these choices.
//
// It is written for the ledger's hot path (every event is canonicalized
// once when sealed); the tests check it against RFC 8785's examples and
// against go-json-experiment's jsontext, an independent implementation.
func Canonicalize(b []byte) ([]byte, error) {
	return appendCanonical(make([]byte, 0, len(b)), b)
}

// appendCanonical appends the canonical form of b to dst.
func appendCanonical(dst, b []byte) ([]byte, error) {
	p := canons.Get().(*canon)
	defer func() { p.in = nil; canons.Put(p) }()
	p.in, p.i = b, 0
	p.spans = p.spans[:0]
	p.space()
	out, err := p.value(dst, 0)
	if err != nil {
		return nil, err
	}
	if p.space(); p.i != len(p.in) {
		return nil, p.errorf("data after the JSON value")
	}
	return out, nil
}

// maxDepth bounds nesting, so hostile input cannot exhaust the stack.
const maxDepth = 1000

// canon is a canonicalizing parser over one input.
type canon struct {
	in    []byte
	i     int
	spans []span // members of the objects being written, innermost last
	tmp   []byte // scratch for reordering members
}

// canons keeps parsers for reuse: their buffers make Canonicalize nearly
// allocation-free.
var canons = sync.Pool{New: func() any { return new(canon) }}

func (p *canon) errorf(format string, args ...any) error {
	return fmt.Errorf("canonicalize json: offset %d: %s", p.i, fmt.Sprintf(format, args...))
}

func (p *canon) space() {
	for p.i < len(p.in) {
		switch p.in[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// value appends the canonical form of the value at p.i to dst.
func (p *canon) value(dst []byte, depth int) ([]byte, error) {
	if p.i >= len(p.in) {
		return nil, p.errorf("unexpected end of input")
	}
	if depth > maxDepth {
		return nil, p.errorf("nested deeper than %d", maxDepth)
	}
	switch c := p.in[p.i]; {
	case c == '{':
		return p.object(dst, depth)
	case c == '[':
		return p.array(dst, depth)
	case c == '"':
		dst, _, err := p.appendStr(dst)
		return dst, err
	case c == '-' || '0' <= c && c <= '9':
		return p.number(dst)
	}
	for _, lit := range []string{"true", "false", "null"} {
		if bytes.HasPrefix(p.in[p.i:], []byte(lit)) {
			p.i += len(lit)
			return append(dst, lit...), nil
		}
	}
	return nil, p.errorf("invalid character %q", p.in[p.i])
}

func (p *canon) array(dst []byte, depth int) ([]byte, error) {
	p.i++ // [
	dst = append(dst, '[')
	p.space()
	if p.i < len(p.in) && p.in[p.i] == ']' {
		p.i++
		return append(dst, ']'), nil
	}
	for n := 0; ; n++ {
		if n > 0 {
			dst = append(dst, ',')
		}
		p.space()
		var err error
		if dst, err = p.value(dst, depth+1); err != nil {
			return nil, err
		}
		p.space()
		if p.i >= len(p.in) {
			return nil, p.errorf("unexpected end of input in array")
		}
		switch p.in[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return append(dst, ']'), nil
		default:
			return nil, p.errorf("expected ',' or ']' in array")
		}
	}
}

// span is one member of an object being canonicalized: its decoded name,
// and where its canonical `"name":value` bytes lie in the output.
type span struct {
	name     [2]int // the name's canonical bytes in the output, without quotes
	esc      bool   // the name has an escape (a '"', '\' or control character)
	from, to int
	// key is the name's first 8 bytes as a big-endian number, when they
	// are printable ASCII, whose byte order is UTF-16 order; else 0.
	key uint64
}

func (p *canon) object(dst []byte, depth int) ([]byte, error) {
	p.i++ // {
	dst = append(dst, '{')
	start, base := len(dst), len(p.spans)
	p.space()
	if p.i < len(p.in) && p.in[p.i] == '}' {
		p.i++
		return append(dst, '}'), nil
	}
	for {
		if len(p.spans) > base {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = p.member(dst, depth); err != nil {
			return nil, err
		}
		if p.space(); p.i >= len(p.in) {
			return nil, p.errorf("unexpected end of input in object")
		}
		if c := p.in[p.i]; c == '}' {
			p.i++
			break
		} else if c != ',' {
			return nil, p.errorf("expected ',' or '}' in object")
		}
		p.i++
	}
	dst = p.sortMembers(dst, start, p.spans[base:])
	p.spans = p.spans[:base]
	return append(dst, '}'), nil
}

// member appends one canonical `"name":value` and records its span.
func (p *canon) member(dst []byte, depth int) ([]byte, error) {
	p.space()
	if p.i >= len(p.in) || p.in[p.i] != '"' {
		return nil, p.errorf("expected a member name")
	}
	from := len(dst)
	dst, esc, err := p.appendStr(dst)
	if err != nil {
		return nil, err
	}
	name := [2]int{from + 1, len(dst) - 1}
	if p.space(); p.i >= len(p.in) || p.in[p.i] != ':' {
		return nil, p.errorf("expected ':' after a member name")
	}
	p.i++
	p.space()
	if dst, err = p.value(append(dst, ':'), depth+1); err != nil {
		return nil, err
	}
	p.spans = append(p.spans, span{name, esc, from, len(dst), sortKey(dst[name[0]:name[1]], esc)})
	return dst, nil
}

// sortMembers rewrites the members written from start in order of their
// names' UTF-16 code units (then of their canonical bytes, for duplicate
// names), unless they are in order already.
func (p *canon) sortMembers(dst []byte, start int, ms []span) []byte {
	cmp := func(a, b span) int {
		if a.key != b.key && a.key != 0 && b.key != 0 {
			return cmpUint(a.key, b.key)
		}
		if c := compareNames(dst, a, b); c != 0 {
			return c
		}
		return bytes.Compare(dst[a.from:a.to], dst[b.from:b.to])
	}
	if slices.IsSortedFunc(ms, cmp) {
		return dst
	}
	slices.SortStableFunc(ms, cmp)
	p.tmp = append(p.tmp[:0], dst[start:]...)
	dst = dst[:start]
	for i, m := range ms {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, p.tmp[m.from-start:m.to-start]...)
	}
	return dst
}

// sortKey returns the key of a span whose name is name.
func sortKey(name []byte, esc bool) uint64 {
	if esc {
		return 0
	}
	var k uint64
	for i := 0; i < 8; i++ {
		k <<= 8
		if i < len(name) {
			if name[i] >= 0x80 {
				return 0
			}
			k |= uint64(name[i])
		}
	}
	if k == 0 {
		return 0 // the empty name: let compareNames order it
	}
	return k
}

func cmpUint(a, b uint64) int {
	if a < b {
		return -1
	}
	return 1
}

// compareNames orders the names of members a and b of dst. A name with an
// escape is compared as the string it stands for.
func compareNames(dst []byte, a, b span) int {
	na, nb := dst[a.name[0]:a.name[1]], dst[b.name[0]:b.name[1]]
	if a.esc {
		na = unescapeCanonical(na)
	}
	if b.esc {
		nb = unescapeCanonical(nb)
	}
	return compareUTF16(na, nb)
}

// compareUTF16 orders strings by their UTF-16 code units, as RFC 8785
// sorts member names. It differs from byte order only where characters
// above U+FFFF (surrogate pairs) meet characters from U+E000 to U+FFFF.
func compareUTF16(a, b []byte) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	switch {
	case i == len(a) || i == len(b):
		return len(a) - len(b)
	case a[i] < 0x80 && b[i] < 0x80:
		return int(a[i]) - int(b[i])
	}
	// Back up to the start of the runes that differ.
	for i > 0 && !utf8.RuneStart(a[i]) {
		i--
	}
	for a, b = a[i:], b[i:]; len(a) > 0 && len(b) > 0; {
		ra, na := utf8.DecodeRune(a)
		rb, nb := utf8.DecodeRune(b)
		if ra != rb {
			return cmpUnit(ra) - cmpUnit(rb)
		}
		a, b = a[na:], b[nb:]
	}
	return len(a) - len(b)
}

// cmpUnit is r's first UTF-16 code unit, which decides the order of two
// different runes (the second unit only matters when the first are equal,
// and then the runes differ in it the same way they differ as numbers).
func cmpUnit(r rune) int {
	if r >= 0x10000 {
		hi, lo := utf16.EncodeRune(r)
		return int(hi)<<10 | int(lo)&0x3ff
	}
	return int(r) << 10
}
