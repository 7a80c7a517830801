package ledger

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// plain marks the bytes that a string copies as they are: printable ASCII
// other than '"' and '\'.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendStr parses the string at p.i and appends it to dst in canonical
// form: only '"', '\' and control characters escaped, everything else as
// UTF-8. It reports whether the output holds an escape.
func (p *canon) appendStr(dst []byte) ([]byte, bool, error) {
	p.i++ // "
	dst = append(dst, '"')
	esc := false
	for {
		start := p.i
		for p.i < len(p.in) && plain[p.in[p.i]] {
			p.i++
		}
		dst = append(dst, p.in[start:p.i]...)
		if p.i >= len(p.in) {
			return nil, false, p.errorf("unexpected end of input in string")
		}
		switch c := p.in[p.i]; {
		case c == '"':
			p.i++
			return append(dst, '"'), esc, nil
		case c < 0x20:
			return nil, false, p.errorf("control character in string")
		case c == '\\':
			r, err := p.escape()
			if err != nil {
				return nil, false, err
			}
			var e bool
			dst, e = appendRune(dst, r)
			esc = esc || e
		default:
			// Non-ASCII: copied when valid UTF-8, else U+FFFD per bad byte.
			r, n := utf8.DecodeRune(p.in[p.i:])
			if r == utf8.RuneError && n == 1 {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			} else {
				dst = append(dst, p.in[p.i:p.i+n]...)
			}
			p.i += n
		}
	}
}

// appendRune appends r as it appears in a canonical string, reporting
// whether it needed an escape.
func appendRune(dst []byte, r rune) ([]byte, bool) {
	const hex = "0123456789abcdef"
	switch {
	case r == '"' || r == '\\':
		return append(dst, '\\', byte(r)), true
	case r >= 0x20:
		return utf8.AppendRune(dst, r), false
	}
	switch r {
	case '\b':
		return append(dst, '\\', 'b'), true
	case '\t':
		return append(dst, '\\', 't'), true
	case '\n':
		return append(dst, '\\', 'n'), true
	case '\f':
		return append(dst, '\\', 'f'), true
	case '\r':
		return append(dst, '\\', 'r'), true
	}
	return append(dst, '\\', 'u', '0', '0', hex[r>>4], hex[r&15]), true
}

// escape decodes the escape at p.i (a '\').
func (p *canon) escape() (rune, error) {
	if p.i+1 >= len(p.in) {
		return 0, p.errorf("unexpected end of input in string")
	}
	esc := p.in[p.i+1]
	p.i += 2
	if r := unescape(esc); r != 0 {
		return rune(r), nil
	}
	if esc != 'u' {
		return 0, p.errorf("invalid escape \\%c", esc)
	}
	r, err := p.hex4()
	if err == nil && utf16.IsSurrogate(r) {
		r = p.lowSurrogate(r)
	}
	return r, err
}

// unescape returns the byte that the one-letter escape \esc stands for,
// or 0 when esc is not one.
func unescape(esc byte) byte {
	switch esc {
	case '"', '\\', '/':
		return esc
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	}
	return 0
}

// lowSurrogate completes the high surrogate hi with a following \uDC00-
// \uDFFF escape, or returns U+FFFD for a lone surrogate.
func (p *canon) lowSurrogate(hi rune) rune {
	if hi < 0xdc00 && p.i+6 <= len(p.in) && p.in[p.i] == '\\' && p.in[p.i+1] == 'u' {
		save := p.i
		p.i += 2
		if lo, err := p.hex4(); err == nil && 0xdc00 <= lo && lo <= 0xdfff {
			return utf16.DecodeRune(hi, lo)
		}
		p.i = save
	}
	return utf8.RuneError
}

func (p *canon) hex4() (rune, error) {
	if p.i+4 > len(p.in) {
		return 0, p.errorf("short \\u escape")
	}
	n, err := strconv.ParseUint(string(p.in[p.i:p.i+4]), 16, 16)
	if err != nil {
		return 0, p.errorf("invalid \\u escape")
	}
	p.i += 4
	return rune(n), nil
}

// unescapeCanonical decodes the escapes of a canonical string body, which
// are only \" \\ \b \t \n \f \r and \u00XX.
func unescapeCanonical(s []byte) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			out = append(out, s[i])
			continue
		}
		i++
		if s[i] == 'u' && i+4 < len(s) {
			n, _ := strconv.ParseUint(string(s[i+1:i+5]), 16, 8)
			out = append(out, byte(n))
			i += 4
			continue
		}
		out = append(out, unescape(s[i]))
	}
	return out
}
