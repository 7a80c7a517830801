package ledger_test

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/trailhq/trail/ledger"
)

// reference canonicalizes with go-json-experiment's jsontext, an
// independent RFC 8785 implementation; ok is false where it refuses.
func reference(b []byte) ([]byte, bool) {
	v := jsontext.Value(append([]byte(nil), b...))
	if err := v.Canonicalize(); err != nil {
		return nil, false
	}
	return v, true
}

// TestCanonicalizeMatchesReference compares Canonicalize with jsontext on
// random JSON documents: nested objects with names that sort differently
// in UTF-8 and UTF-16, escaped and raw strings, and doubles spelled many
// ways.
func TestCanonicalizeMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	compared := 0
	defer func() {
		if compared < 2000 {
			t.Errorf("only %d of 3000 documents compared", compared)
		}
	}()
	for i := 0; i < 3000; i++ {
		var b strings.Builder
		genValue(r, &b, 0)
		in := []byte(b.String())
		want, ok := reference(in)
		if !ok {
			continue // a duplicate name: not I-JSON, no reference
		}
		got, err := ledger.Canonicalize(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("input %s\ngot  %s\nwant %s", in, got, want)
		}
		compared++
	}
}

var names = []string{"a", "b", "A", "aa", "é", "€", "\ufb33", "😀", "\u00f6", "1", "10", "", "\n", "z\u0001", "\uffff", "\U00010000"}

func genValue(r *rand.Rand, b *strings.Builder, depth int) {
	ws := func() {
		if r.IntN(4) == 0 {
			b.WriteString([]string{" ", "\n", "\t ", "\r\n"}[r.IntN(4)])
		}
	}
	ws()
	switch k := r.IntN(7); {
	case k == 0 && depth < 4:
		b.WriteByte('{')
		for j, n := range r.Perm(len(names))[:r.IntN(6)] {
			if j > 0 {
				b.WriteByte(',')
			}
			genString(r, b, names[n])
			ws()
			b.WriteByte(':')
			genValue(r, b, depth+1)
		}
		b.WriteByte('}')
	case k == 1 && depth < 4:
		b.WriteByte('[')
		for j := 0; j < r.IntN(5); j++ {
			if j > 0 {
				b.WriteByte(',')
			}
			genValue(r, b, depth+1)
		}
		b.WriteByte(']')
	case k == 2:
		genString(r, b, randomText(r))
	case k == 3:
		b.WriteString([]string{"true", "false", "null"}[r.IntN(3)])
	default:
		b.WriteString(randomNumber(r))
	}
	ws()
}

// genString writes s as a JSON string, escaping some characters that need
// no escape and spelling others as \u escapes.
func genString(r *rand.Rand, b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			b.WriteString(`\` + string(c))
		case c < 0x20 || r.IntN(5) == 0:
			for _, u := range utf16Units(c) {
				b.WriteString(`\u` + strings.ToUpper(strconv.FormatInt(int64(0x10000+u), 16)[1:]))
			}
		case c == '/' && r.IntN(2) == 0:
			b.WriteString(`\/`)
		default:
			b.WriteRune(c)
		}
	}
	b.WriteByte('"')
}

func utf16Units(c rune) []rune {
	if c < 0x10000 {
		return []rune{c}
	}
	c -= 0x10000
	return []rune{0xd800 + c>>10, 0xdc00 + c&0x3ff}
}

func randomText(r *rand.Rand) string {
	pool := []rune("abcXYZ 09\"\\/<>&\u0000\u001f\u007f\u0080é€\ufb33\uffff😀\U0010ffff")
	var b strings.Builder
	for i := 0; i < r.IntN(8); i++ {
		b.WriteRune(pool[r.IntN(len(pool))])
	}
	return b.String()
}

// randomNumber spells a random double, or an integer, in one of the ways
// JSON allows.
func randomNumber(r *rand.Rand) string {
	switch r.IntN(4) {
	case 0:
		return strconv.FormatInt(r.Int64N(1<<62)-1<<61, 10)
	case 1:
		return strconv.Itoa(r.IntN(2000) - 1000)
	}
	f := math.Float64frombits(r.Uint64())
	for math.IsNaN(f) || math.IsInf(f, 0) {
		f = math.Float64frombits(r.Uint64())
	}
	if r.IntN(2) == 0 {
		f = float64(r.IntN(1e6)) / float64([]int{1, 10, 1000, 1e7}[r.IntN(4)])
	}
	s := strconv.FormatFloat(f, []byte("egf")[r.IntN(3)], []int{-1, 17, 20}[r.IntN(3)], 64)
	return strings.Replace(s, "e+", []string{"e+", "E", "e"}[r.IntN(3)], 1)
}

// FuzzCanonicalize checks Canonicalize against jsontext on any input both
// accept, and that it rejects what is not JSON.
func FuzzCanonicalize(f *testing.F) {
	for _, s := range []string{`{"b":[1,2.50,"x"],"a":{"\u20ac":null}}`, `-0.0e-7`, `"\ud83d\ude00"`, `[1e400]`, `{"a":1,"a":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := ledger.Canonicalize(in)
		if !json.Valid(in) {
			if err == nil && utf8.Valid(in) {
				t.Fatalf("%q is not JSON but canonicalized to %q", in, got)
			}
			return
		}
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if want, ok := reference(in); ok && !bytes.Equal(got, want) {
			t.Fatalf("input %q\ngot  %q\nwant %q", in, got, want)
		}
		if again, err := ledger.Canonicalize(got); err != nil || !bytes.Equal(again, got) {
			t.Fatalf("canonical form %q is not a fixed point: %q, %v", got, again, err)
		}
	})
}
