package console

import (
	"net/url"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/trailhq/trail"
)

// maxTextLen bounds the free-text filter.
const maxTextLen = 200

// localLayout is the value format of <input type="datetime-local">; the
// console reads and shows such values as UTC.
const localLayout = "2006-01-02T15:04"

// filters is the audit log's state from the URL: the API's parameters
// (trail.ParseQuery), plus q (free text) and page (the page number shown).
type filters struct {
	// values holds the parameters that select and order events: no cursor
	// and no page number. Links to other sorts, exports and the live tail
	// start from it.
	values url.Values
	query  *trail.Query
	text   string
	page   int
}

// parseFilters reads the URL's filters for a viewer. Empty parameters are
// dropped, so an empty form field does not filter. Problems name the
// parameter, like the API's.
func parseFilters(raw url.Values, scope trail.Scope) (*filters, error) {
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
	if err == nil && (utf8.RuneCountInString(f.text) > maxTextLen || !utf8.ValidString(f.text)) {
		err = trail.Invalid("q", "longer than 200 characters")
	}
	if err != nil {
		return nil, err
	}
	q.Scope = scope
	f.query = q
	v.Del("cursor")
	v.Del("page")
	f.values = v
	return f, nil
}

// rfc3339 turns a datetime-local or date value into RFC 3339 in UTC, and
// leaves anything else for ParseQuery to judge.
func rfc3339(s string) string {
	for _, layout := range []string{localLayout, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Format(time.RFC3339)
		}
	}
	return s
}

// localValue turns a since/until parameter into a datetime-local value for
// the form; "" when it is not a time.
func localValue(s string) string {
	if s == "" {
		return ""
	}
	t, err := time.Parse(time.RFC3339Nano, rfc3339(s))
	if err != nil {
		return ""
	}
	return t.UTC().Format(localLayout)
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
