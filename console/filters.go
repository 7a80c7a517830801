package console

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/trailhq/trail"
)

// maxTextLen bounds the free-text filter.
const maxTextLen = 200

// formLayout is how the filter form shows a time: UTC, 24-hour, as the
// table shows times. The form's time fields are plain text, not the
// browser's datetime control, which follows the browser's locale (a
// 12-hour clock, say) and knows no time zone.
const formLayout = "2006-01-02 15:04"

// filters is the audit log's state from the URL: the API's parameters
// (trail.ParseQuery), plus q (free text) and page (the page number shown).
type filters struct {
	// values holds the parameters that select and order events: no cursor
	// and no page number. Links to other sorts, exports and the live tail
	// start from it.
	values url.Values
	query  *trail.Query
	text   string
	search *trail.Search // the parsed text; nil without one
	page   int
}

// filterParams are the parameters of the audit log's views. Any other is
// an error, as in the API, so that a mistyped filter never shows more.
var filterParams = []string{"action", "actor_type", "actor_id", "actor_name", "target_type",
	"target_id", "trace_id", "ip", "since", "until", "sort", "order", "limit", "cursor", "q", "page"}

// parseFilters reads the URL's filters for a viewer. Empty parameters are
// dropped, so an empty form field does not filter. Problems name the
// parameter, like the API's.
func parseFilters(raw url.Values, scope trail.Scope) (*filters, error) {
	if err := checkParams(raw); err != nil {
		return nil, err
	}
	v := url.Values{}
	for k, vals := range raw {
		for _, s := range vals {
			if s != "" {
				v.Add(k, s)
			}
		}
	}
	f := &filters{text: v.Get("q"), page: 1}
	if n, err := strconv.Atoi(v.Get("page")); err == nil && n > 1 {
		f.page = n
	}
	api := cloneValues(v)
	api.Del("q")
	api.Del("page")
	for _, k := range []string{"since", "until"} {
		if s := api.Get(k); s != "" {
			api.Set(k, rfc3339(s))
		}
	}
	if api.Get("limit") == "" {
		api.Set("limit", strconv.Itoa(DefaultPageSize))
	}
	q, err := trail.ParseQuery(api)
	if err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(f.text) > maxTextLen {
		return nil, trail.Invalid("q", fmt.Sprintf("longer than %d characters", maxTextLen))
	}
	if f.text != "" {
		if f.search, err = trail.ParseSearch(f.text); err != nil {
			return nil, err
		}
	}
	q.Scope, q.Search = scope, f.search
	f.query = q
	v.Del("cursor")
	v.Del("page")
	f.values = v
	return f, nil
}

// rfc3339 turns a form's time ("2026-12-01 13:05", with seconds, with a
// T, or a date alone), read as UTC, into RFC 3339, and leaves anything
// else for ParseQuery to judge (and refuse, naming the field).
func rfc3339(s string) string {
	for _, layout := range []string{formLayout, "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Format(time.RFC3339)
		}
	}
	return s
}

// localValue turns a since/until parameter into the form's text: UTC,
// 24-hour, with seconds only when it has them. Text that is no time is
// shown as typed, beside the error that names it.
func localValue(s string) string {
	if s == "" {
		return ""
	}
	t, err := time.Parse(time.RFC3339Nano, rfc3339(s))
	if err != nil {
		return s
	}
	if t.Second() != 0 || t.Nanosecond() != 0 {
		return t.UTC().Format(formLayout + ":05")
	}
	return t.UTC().Format(formLayout)
}

func cloneValues(v url.Values) url.Values {
	c := make(url.Values, len(v))
	for k, vals := range v {
		c[k] = append([]string(nil), vals...)
	}
	return c
}

// with returns a copy of v with key set to value ("" deletes it).
func with(v url.Values, kv ...string) url.Values {
	c := cloneValues(v)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			c.Del(kv[i])
		} else {
			c.Set(kv[i], kv[i+1])
		}
	}
	return c
}

// link builds path?values, or path alone when values is empty.
func link(path string, v url.Values) string {
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// checkParams refuses parameters the views do not take, and any but
// action given twice: ParseQuery would read only the first.
func checkParams(v url.Values) error {
	var p trail.Problems
	for _, name := range slices.Sorted(maps.Keys(v)) {
		switch {
		case !slices.Contains(filterParams, name):
			p.Add(-1, name, "unknown parameter")
		case len(v[name]) > 1 && name != "action":
			p.Add(-1, name, "given more than once")
		}
	}
	return p.Err()
}
