package trail_test

import (
	"encoding/base64"
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
)

func TestParseQueryString(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		for raw, want := range map[string]url.Values{
			"":                           {},
			"a=1&b=2":                    {"a": {"1"}, "b": {"2"}},
			"action=a.b&action=c.*":      {"action": {"a.b", "c.*"}},
			"q=Ada+Lovelace%21":          {"q": {"Ada Lovelace!"}},
			"a=1&&b=&":                   {"a": {"1"}, "b": {""}},
			"flag":                       {"flag": {""}},
			"a=x%3By":                    {"a": {"x;y"}},
			"a=%E2%9C%93":                {"a": {"✓"}},
			strings.Repeat("a=1&", 1000): {"a": slicesRepeat("1", 1000)},
		} {
			got, err := trail.ParseQueryString(raw)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("ParseQueryString(%.40q) = %v, %v; want %v", raw, got, err, want)
			}
		}
	})
	for _, tt := range []struct{ raw, field, problem string }{
		{"action=nomatch.x;", "action", "';'"},
		{"tenant=globex;", "tenant", "';'"},
		{"a=1;b=2", "a", "';'"},
		{"a;b=2", "a", "';'"},
		{"a=%zz", "a", "escape"},
		{"a=%", "a", "escape"},
		{"%zz=1", "query", "escape"},
		{"=1", "query", "no name"},
		{"a%00=1", "query", "printable"},
		{"a%0A=1", "query", "printable"},
		{strings.Repeat("n", 65) + "=1", "query", "printable"},
		{strings.Repeat("a=1&", 1001), "query", "more than 1000"},
	} {
		t.Run("Err"+tt.raw[:min(len(tt.raw), 20)], func(t *testing.T) {
			_, err := trail.ParseQueryString(tt.raw)
			var e *trail.Error
			if !errors.As(err, &e) || e.Code != trail.EINVALID || len(e.Details) != 1 {
				t.Fatalf("err = %v, want one invalid detail", err)
			}
			if d := e.Details[0]; d.Field != tt.field || !strings.Contains(d.Problem, tt.problem) {
				t.Errorf("detail = %+v, want field %q, problem containing %q", d, tt.field, tt.problem)
			}
		})
	}
}

func slicesRepeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// FuzzParseQueryString checks that the strict parser accepts only what
// net/url reads without error and reads it the same, that what it accepts
// survives re-encoding, and that every refusal is a 400 naming a field.
func FuzzParseQueryString(f *testing.F) {
	for _, s := range []string{"", "a=1&b=2", "action=x;", "a=%zz", "=1", "q=a+b", "a&&b", "%41=%42",
		"tile=0/1&tile=1/0", "a=1;b=2", "a%00=1", "n=%E2%80%8B"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := trail.ParseQueryString(raw)
		if err != nil {
			var e *trail.Error
			if !errors.As(err, &e) || e.Code != trail.EINVALID || len(e.Details) != 1 || e.Details[0].Field == "" {
				t.Fatalf("ParseQueryString(%q): %v, want one invalid detail naming a field", raw, err)
			}
			return
		}
		want, uerr := url.ParseQuery(raw)
		if uerr != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("ParseQueryString(%q) = %v; net/url: %v, %v", raw, got, want, uerr)
		}
		again, err := trail.ParseQueryString(got.Encode())
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Fatalf("re-encoded %q reads %v, %v; want %v", got.Encode(), again, err, got)
		}
	})
}

// FuzzDecodeCursor checks that a cursor is accepted only in the exact form
// the server issues, and that ParseQuery refuses any other as a 400.
func FuzzDecodeCursor(f *testing.F) {
	at := time.Date(2026, 11, 23, 12, 0, 0, 123000, time.UTC)
	id := trail.NewID(at)
	for _, c := range []*trail.Cursor{
		{Sort: trail.SortOccurredAt, Desc: true, OccurredAt: at, ID: id},
		{Sort: trail.SortAction, Key: "user.login", OccurredAt: at, ID: id},
		{Sort: trail.SortActor, Key: "<u&1>", OccurredAt: at, ID: id},
	} {
		f.Add(c.Encode())
	}
	f.Add("garbage")
	f.Add("eyJzIjoib2NjdXJyZWRfYXQiLCJzIjoiYWN0aW9uIn0") // {"s":"occurred_at","s":"action"}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := trail.DecodeCursor(s)
		if err != nil {
			if trail.ErrorCode(err) != trail.EINVALID {
				t.Fatalf("DecodeCursor(%q): %v, want invalid", s, err)
			}
		} else if c.Encode() != s {
			t.Fatalf("DecodeCursor(%q) accepted a cursor it would encode as %q", s, c.Encode())
		}
		_, err = trail.ParseQuery(url.Values{"cursor": {s}})
		if code := trail.ErrorCode(err); code != "" && code != trail.EINVALID {
			t.Fatalf("ParseQuery(cursor=%q): %v", s, err)
		}
	})
}

func TestDecodeCursorRefusesOtherForms(t *testing.T) {
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	id := trail.NewID(at)
	good := (&trail.Cursor{Sort: trail.SortAction, Key: "a.b", OccurredAt: at, ID: id}).Encode()
	if _, err := trail.DecodeCursor(good); err != nil {
		t.Fatalf("issued cursor refused: %v", err)
	}
	enc := func(json string) string { return encodeRaw(json) }
	for _, json := range []string{
		`{"s":"action","s":"actor","k":"a.b","t":"2026-11-23T12:00:00Z","i":"` + id + `"}`,
		`{"S":"action","k":"a.b","t":"2026-11-23T12:00:00Z","i":"` + id + `"}`,
		`{"s":"action","k":"a.b","t":"2026-11-23T12:00:00Z","i":"` + id + `","x":1}`,
		`{"s":"action", "k":"a.b","t":"2026-11-23T12:00:00Z","i":"` + id + `"}`,
	} {
		if _, err := trail.DecodeCursor(enc(json)); trail.ErrorCode(err) != trail.EINVALID {
			t.Errorf("DecodeCursor(%s) = %v, want invalid", json, err)
		}
	}
}

func encodeRaw(s string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}
