package trail_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/trailhq/trail"
)

// joinedTokens is the reference for AppendSearchWords: the tokens of
// every SearchFields text, joined by spaces.
func joinedTokens(e *trail.Event) string { return strings.Join(searchDocTokens(e), " ") }

func checkSearchWords(t *testing.T, e *trail.Event) {
	t.Helper()
	got, want := string(trail.AppendSearchWords(nil, e)), joinedTokens(e)
	if got != want {
		t.Fatalf("AppendSearchWords = %q, want %q", got, want)
	}
	if got := string(trail.AppendSearchWords([]byte("x "), e)); got != "x "+want {
		t.Fatalf("AppendSearchWords after %q = %q, want %q", "x ", got, "x "+want)
	}
}

func TestAppendSearchWords(t *testing.T) {
	t.Run("Event", func(t *testing.T) { checkSearchWords(t, searchEvent()) })
	for name, meta := range map[string]string{
		"Empty":           ``,
		"Null":            `null`,
		"EmptyObject":     `{}`,
		"Spaces":          " { \"b\" : [ 1 , {\"x\":\"Y\"} , [ ] ] ,\n\t\"a\" : true } ",
		"SortedNames":     `{"zeta":"z","Alpha":"a","alpha":"b","_":"c","é":"d"}`,
		"EscapedNames":    `{"b\u0041":"1","bA":"2","\"q\"":"3","a\\b":"4"}`,
		"RepeatedName":    `{"k":"first","j":{"k":1},"k":"LAST"}`,
		"Numbers":         `{"a":1.0,"b":-0,"c":1e21,"d":0.0000001,"e":123456789012345678,"f":-2.5E3,"g":1e-7,"h":999999999999999}`,
		"OutOfRange":      `{"ok":"words","n":1e400}`,
		"Invalid":         `{"a":`,
		"NotAnObject":     `"Just A String"`,
		"Escapes":         `{"s":"tab\tnew\nline \u00c9MILE \ud83d\ude00 x\/y"}`,
		"LoneSurrogate":   `{"s":"a\ud800b"}`,
		"InvalidUTF8":     "{\"a\xffb\":\"c\xffd\",\"a\":\"e\"}",
		"UnicodeCase":     `{"Straße":"İSTANBUL ǅ Σίσυφος ＡＢＣ ٣"}`,
		"NestedArrays":    `{"a":[[["deep"]],[],[null,false]]}`,
		"BoolsAndNulls":   `{"t":true,"f":false,"n":null}`,
		"NoWordsAtAll":    `{"-":"--","":""}`,
		"LeadingNonWords": `{"k":"  ...Hello, World!!  "}`,
	} {
		t.Run(name, func(t *testing.T) {
			e := searchEvent()
			e.Metadata = json.RawMessage(meta)
			e.Actor.Metadata = json.RawMessage(meta)
			checkSearchWords(t, e)
		})
	}
	t.Run("Bare", func(t *testing.T) { checkSearchWords(t, &trail.Event{}) })
	t.Run("Strings", func(t *testing.T) {
		e := &trail.Event{ID: "ÀB-c", Action: "\xffa\xffB\xff", Actor: trail.Actor{Name: "  ", Type: "ǅungla"},
			Context: trail.Context{UserAgent: "Ω1ω2 ½ ⅷ"}}
		checkSearchWords(t, e)
	})
}

func FuzzAppendSearchWords(f *testing.F) {
	e := searchEvent()
	f.Add(e.Action, e.Actor.Name, string(e.Metadata), string(e.Actor.Metadata))
	f.Add("A.b", "Ünïcödé Ǆ", `{"b":[1,2.5,1e400],"a":{"c":null}}`, `{"x":"\u00e9\"y"}`)
	f.Add("", "", " [ true , false ] ", `{"k":1,"k":2}`)
	f.Fuzz(func(t *testing.T, action, name, meta, actorMeta string) {
		e := searchEvent()
		e.Action, e.Actor.Name = action, name
		e.Metadata, e.Actor.Metadata = json.RawMessage(meta), json.RawMessage(actorMeta)
		e.Targets[0].Metadata = json.RawMessage(meta)
		checkSearchWords(t, e)
	})
}

func BenchmarkAppendSearchWords(b *testing.B) {
	e := searchEvent()
	b.Run("Joined", func(b *testing.B) {
		for b.Loop() {
			joinedTokens(e)
		}
	})
	b.Run("Append", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf = trail.AppendSearchWords(buf[:0], e)
		}
	})
}
