package trail_test

import (
	"encoding/json"
	"errors"
	"math/big"
	"strconv"
	"strings"
	"testing"

	"github.com/trailhq/trail"
)

func TestExactNumber(t *testing.T) {
	for _, lit := range []string{
		"0", "-0", "0.0", "1", "-1", "1.0", "2.50", "0.1", "0.10", "1e-1", "1E2", "1e+2", "100",
		"123456789012345", "9007199254740992", "-9007199254740992", "1234567890123456800", "1e21", "1e+21",
		"5e-324", "1.7976931348623157e308", "0.000001", "1e-7", "12.5e-3", "3.141592653589793",
	} {
		if !trail.ExactNumber([]byte(lit)) {
			t.Errorf("ExactNumber(%s) = false, want true", lit)
		}
	}
	for _, lit := range []string{
		"9007199254740993", "-9007199254740993", "1234567890123456789", "1234567890123456700",
		"12345678901234567890", "0.10000000000000000555", "0.1000000000000000055511151231257827",
		"1e400", "-1e400", "1e-400", "4.9e-324", "1.7976931348623159e308", "3.1415926535897932384626",
		"1e99999999999999999999", "1e-99999999999999999999",
	} {
		if trail.ExactNumber([]byte(lit)) {
			t.Errorf("ExactNumber(%s) = true, want false", lit)
		}
	}
}

func TestInexactNumber(t *testing.T) {
	for _, tc := range []struct{ in, path, lit string }{
		{`{"a":1,"b":[1,2.5,{"c":"9007199254740993","d":9007199254740993}]}`, ".b[2].d", "9007199254740993"},
		{`{"x\"y:":{"k":[true,null,1e400]}}`, `.x"y:.k[2]`, "1e400"},
		{`{"a": "1e400", "b" : 0.1 , "c":[ ],"d":{}}`, "", ""},
		{`[1,[2,3],4,12345678901234567890]`, "[3]", "12345678901234567890"},
	} {
		path, lit := trail.InexactNumber([]byte(tc.in))
		if path != tc.path || string(lit) != tc.lit {
			t.Errorf("InexactNumber(%s) = %q, %q; want %q, %q", tc.in, path, lit, tc.path, tc.lit)
		}
	}
}

// TestParseEventsInexactNumber checks that both decoding paths refuse a
// number the ledger cannot pin exactly, naming the field and saying to
// send it as a string.
func TestParseEventsInexactNumber(t *testing.T) {
	for _, tc := range []struct{ name, body, field string }{
		{"Metadata", strings.Replace(good, `{"plan": "pro"}`, `{"plan":"pro","to_account_id":1234567890123456789}`, 1), "metadata.to_account_id"},
		{"Decimal", strings.Replace(good, `{"plan": "pro"}`, `{"rate":0.10000000000000000555}`, 1), "metadata.rate"},
		{"Overflow", strings.Replace(good, `{"plan": "pro"}`, `{"big":1e400}`, 1), "metadata.big"},
		{"Nested", strings.Replace(good, `{"plan": "pro"}`, `{"a":{"b":[0,9007199254740993]}}`, 1), "metadata.a.b[1]"},
		{"Actor", strings.Replace(good, `"name":"Ada"}`, `"name":"Ada","metadata":{"n":9007199254740993}}`, 1), "actor.metadata.n"},
		{"Target", strings.Replace(good, `{"k":1}`, `{"k":1e-400}`, 1), "targets[0].metadata.k"},
	} {
		for _, parse := range []struct {
			name string
			f    func([]byte) ([]*trail.EventInput, error)
		}{
			{"Fast", func(b []byte) ([]*trail.EventInput, error) { return trail.ParseEvents(b, now) }},
			{"Careful", func(b []byte) ([]*trail.EventInput, error) { return trail.ParseEventsCareful(b, now) }},
		} {
			t.Run(tc.name+"/"+parse.name, func(t *testing.T) {
				_, err := parse.f([]byte(tc.body))
				var e *trail.Error
				if !errors.As(err, &e) || e.Code != trail.EINVALID || len(e.Details) != 1 {
					t.Fatalf("error %v, want one EINVALID detail", err)
				}
				d := e.Details[0]
				if d.Field != tc.field || !strings.Contains(d.Problem, "cannot be represented exactly") ||
					!strings.Contains(d.Problem, "send it as a string") {
					t.Errorf("detail %+v, want field %s", d, tc.field)
				}
			})
		}
	}
	t.Run("Version", func(t *testing.T) {
		for _, v := range []string{"9007199254740993", "9223372036854775807"} {
			body := strings.Replace(good, `"version":2`, `"version":`+v, 1)
			_, err := trail.ParseEvents([]byte(body), now)
			var e *trail.Error
			if !errors.As(err, &e) || len(e.Details) != 1 || e.Details[0].Field != "version" {
				t.Errorf("version %s: %v, want a problem of version", v, err)
			}
		}
		body := strings.Replace(good, `"version":2`, `"version":9007199254740992`, 1)
		if _, err := trail.ParseEvents([]byte(body), now); err != nil {
			t.Errorf("version 2^53: %v", err)
		}
	})
	t.Run("ExactAccepted", func(t *testing.T) {
		body := strings.Replace(good, `{"plan": "pro"}`, `{"a":9007199254740992,"b":0.1,"c":2.50,"d":1e21,"e":"1234567890123456789"}`, 1)
		if _, err := trail.ParseEvents([]byte(body), now); err != nil {
			t.Fatal(err)
		}
		if !trail.DecodesFast([]byte(body)) {
			t.Error("the fast path refused a clean body")
		}
	})
}

// FuzzExactNumber checks ExactNumber against exact rational arithmetic:
// a number is exact when it is finite as a double and equals, as a
// rational, the shortest decimal of that double.
func FuzzExactNumber(f *testing.F) {
	for _, s := range []string{"0", "-0", "0.1", "2.50", "1e21", "9007199254740993", "1e400", "1e-400",
		"0.10000000000000000555", "5e-324", "123456789012345678901234567890", "-1.5E-7"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, lit string) {
		if !json.Valid([]byte(lit)) || len(lit) > 64 || !strings.ContainsAny(lit[:1], "-0123456789") {
			return
		}
		a, ok := new(big.Rat).SetString(lit)
		if !ok {
			return // an exponent too large for the reference (0E100000...)
		}
		want := false
		if fl, err := strconv.ParseFloat(lit, 64); err == nil {
			b, _ := new(big.Rat).SetString(strconv.FormatFloat(fl, 'e', -1, 64))
			want = a.Cmp(b) == 0
		}
		if got := trail.ExactNumber([]byte(lit)); got != want {
			t.Errorf("ExactNumber(%s) = %v, want %v", lit, got, want)
		}
	})
}
