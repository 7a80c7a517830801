package trail

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// The ledger hashes an event's JSON in its RFC 8785 canonical form, where
// a number is the shortest decimal of the IEEE double nearest to it. Two
// numerals that round to one double would then share a leaf hash:
// 1234567890123456789 and 1234567890123456700 both hash as
// 1234567890123456800, so one could replace the other in the store
// unseen, though a reader with exact integers tells them apart. So a
// number is accepted only when its decimal value is exactly that of its
// canonical form: every accepted number is the canonical number of one
// double, written in any way that denotes that same decimal value (0.1,
// 0.10, 1e-1; 2.5; 9007199254740992; 1e21). Rejected are integers beyond
// 2^53 that no double holds (9007199254740993), decimals with more digits
// than a double keeps (0.10000000000000000555), and numbers beyond the
// double range (1e400) or below it (1e-400), which RFC 8785 cannot write
// at all. Clients send such values as strings.

// maxExactInt is 2^53: every integer up to it is a double, so its RFC 8785
// form is exact. It bounds the integer fields of an event, like version.
const maxExactInt = 1 << 53

// ExactNumber reports whether the JSON number lit denotes exactly the
// decimal value of its RFC 8785 canonical form: whether the ledger's leaf
// pins its value, not only the double nearest to it.
func ExactNumber(lit []byte) bool {
	if len(lit) <= 15 && plainInteger(lit) {
		return true // up to 15 digits: a double holds it exactly
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil {
		return false // not a number, or beyond the double range
	}
	return sameDecimal(string(lit), strconv.FormatFloat(f, 'e', -1, 64))
}

// plainInteger reports whether lit is an optional '-' and digits only.
func plainInteger(lit []byte) bool {
	if len(lit) > 0 && lit[0] == '-' {
		lit = lit[1:]
	}
	for _, c := range lit {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(lit) > 0
}

// sameDecimal reports whether the JSON numbers a and b denote the same
// decimal value (0 and -0 are the same).
func sameDecimal(a, b string) bool {
	na, ea, oka := normalDecimal(a)
	nb, eb, okb := normalDecimal(b)
	return oka && okb && na == nb && ea == eb
}

// normalDecimal writes the number s as sign and significant digits, with
// no leading or trailing zeros, and the exponent e such that its value is
// 0.digits × 10^e; zero is "" (without a sign). ok is false for an
// exponent too large to hold, which only a number that is not exact has.
func normalDecimal(s string) (digits string, exp int, ok bool) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, e, hasExp := strings.Cut(strings.ToLower(s), "e")
	intPart, frac, _ := strings.Cut(mant, ".")
	all := strings.TrimLeft(intPart+frac, "0")
	exp = len(intPart) - (len(intPart+frac) - len(all)) // digits before the point, after stripping
	all = strings.TrimRight(all, "0")
	if all == "" {
		return "", 0, true
	}
	if hasExp {
		n, err := strconv.Atoi(strings.TrimPrefix(e, "+"))
		if err != nil || n > 1<<30 || n < -(1<<30) {
			return "", 0, false
		}
		exp += n
	}
	if neg {
		all = "-" + all
	}
	return all, exp, true
}

// InexactNumber returns the path (".amount", "[2].id", relative to raw)
// and the text of the first number in the JSON value raw that ExactNumber
// refuses; "" and nil when there is none. raw must be valid JSON.
func InexactNumber(raw []byte) (path string, lit []byte) {
	var stack []numberFrame
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; c {
		case '{', '[':
			stack = append(stack, numberFrame{array: c == '['})
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case ',':
			if n := len(stack); n > 0 && stack[n-1].array {
				stack[n-1].index++
			}
		case '"':
			end := stringEnd(raw, i)
			if n := len(stack); n > 0 && !stack[n-1].array && nextIsColon(raw, end) {
				stack[n-1].key = raw[i : end+1]
			}
			i = end
		case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			j := i + 1
			for j < len(raw) && strings.IndexByte("0123456789.eE+-", raw[j]) >= 0 {
				j++
			}
			if !ExactNumber(raw[i:j]) {
				return numberPath(stack), raw[i:j]
			}
			i = j - 1
		}
	}
	return "", nil
}

// numberFrame is an object or array that InexactNumber is inside: the
// quoted name of the member being read, or the index of the element.
type numberFrame struct {
	array bool
	key   []byte
	index int
}

func numberPath(stack []numberFrame) string {
	var b strings.Builder
	for _, f := range stack {
		if f.array {
			fmt.Fprintf(&b, "[%d]", f.index)
			continue
		}
		name, err := strconv.Unquote(string(f.key))
		if err != nil {
			name = string(f.key) // an escape Go does not know, like \/
		}
		if len(name) > 64 {
			name = name[:64] + "..."
		}
		b.WriteString("." + name)
	}
	return b.String()
}

// stringEnd returns the index of the quote that closes the string that
// opens at raw[i].
func stringEnd(raw []byte, i int) int {
	for j := i + 1; j < len(raw); j++ {
		switch raw[j] {
		case '\\':
			j++
		case '"':
			return j
		}
	}
	return len(raw) - 1
}

// nextIsColon reports whether the first non-space byte after raw[i] is ':'.
func nextIsColon(raw []byte, i int) bool {
	for j := i + 1; j < len(raw); j++ {
		switch raw[j] {
		case ' ', '\t', '\r', '\n':
			continue
		case ':':
			return true
		default:
			return false
		}
	}
	return false
}

// numberProblem describes the inexact number lit for a 400.
func numberProblem(lit []byte) string {
	shown := string(lit)
	if len(shown) > 40 {
		shown = shown[:40] + "..."
	}
	return fmt.Sprintf("number %s cannot be represented exactly (RFC 8785 / I-JSON: only the values of "+
		"IEEE doubles, like 9007199254740992 or 0.1, are); send it as a string", shown)
}

// StoredJSONProblem says why the stored JSON of an event, raw, is not
// what Trail's ingest accepts, in the ways that let its RFC 8785 form,
// and so its ledger leaf, stand for more than one value: a number
// ExactNumber refuses, invalid UTF-8, an unpaired surrogate escape, or a
// name used twice in one object. It returns "" for JSON that Trail could
// have stored. trail verify uses it on events whose leaves match, since
// their bytes may still have been changed to another text of that leaf.
func StoredJSONProblem(raw []byte) string {
	if path, lit := InexactNumber(raw); lit != nil {
		return fmt.Sprintf("holds %.40s at %s, a number that RFC 8785 cannot represent exactly", lit, strings.TrimPrefix(path, "."))
	}
	// jsontext checks I-JSON (UTF-8, surrogates, repeated names) in one
	// fast pass; only a failure is looked at more slowly, to name it.
	if jsontext.Value(raw).IsValid() {
		return ""
	}
	if !utf8.Valid(raw) {
		return "holds invalid UTF-8"
	}
	if problem := checkObject(raw, false); problem != "" {
		return problem
	}
	return "is not I-JSON (RFC 7493)"
}
