package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"unicode/utf8"

	"github.com/trailhq/trail"
)

// Query parameters the event listings and the export accept. Anything else
// is an error, so that a mistyped filter never silently matches everything.
var (
	filterParams = []string{"action", "actor_type", "actor_id", "actor_name", "target_type",
		"target_id", "trace_id", "ip", "since", "until", "sort", "order", "tenant"}
	listParams       = append(slices.Clip(filterParams), "limit", "cursor")
	targetListParams = slices.DeleteFunc(slices.Clone(listParams), func(p string) bool {
		return p == "target_type" || p == "target_id"
	})
	exportParams = append(slices.Clip(filterParams), "format")
)

// maxParamLen bounds one query parameter value; no stored field is longer.
const maxParamLen = 1024

// eventQuery parses r's query parameters into a query scoped to what r's key
// may read, with target fixed when not nil. It returns a nil query when the
// key asked for a tenant it may not see: the answer is then empty, the same
// as for a tenant with no events.
func eventQuery(r *http.Request, allowed []string, target *trail.Target) (*trail.Query, error) {
	v := r.URL.Query()
	if err := checkParams(v, allowed); err != nil {
		return nil, err
	}
	q, err := trail.ParseQuery(v)
	if err != nil {
		return nil, err
	}
	if target != nil {
		var p trail.Problems
		checkValue(&p, "type", target.Type)
		checkValue(&p, "id", target.ID)
		if err := p.Err(); err != nil {
			return nil, err
		}
		q.TargetType, q.TargetID = target.Type, target.ID
	}
	scope, visible, err := readScope(apiKey(r), v.Get("tenant"))
	if err != nil || !visible {
		return nil, err
	}
	q.Scope = scope
	return q, nil
}

// readScope is what key may read when it asks for tenant ("" for all it may
// see). visible is false when a tenant key asks for another tenant.
func readScope(key *trail.APIKey, tenant string) (scope trail.Scope, visible bool, err error) {
	switch {
	case tenant == "":
	case !trail.ValidTenant(tenant):
		return scope, false, trail.Invalid("tenant", "must be 1 to 64 letters, digits, '.', '_' or '-'")
	case !key.Platform && tenant != key.Tenant:
		return scope, false, nil
	}
	return key.ReadScope(tenant), true, nil
}

// checkParams rejects parameters not in allowed, repeated ones (except
// action, which matches any of its values), and values that no store could
// hold: invalid UTF-8, control characters, very long strings.
func checkParams(v url.Values, allowed []string) error {
	var p trail.Problems
	names := make([]string, 0, len(v))
	for name := range v {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		switch {
		case !slices.Contains(allowed, name):
			p.Add(-1, checkedName(name), "unknown query parameter")
		case len(v[name]) > 1 && name != "action":
			p.Add(-1, name, "given more than once")
		default:
			for _, val := range v[name] {
				checkValue(&p, name, val)
			}
		}
	}
	return p.Err()
}

func checkValue(p *trail.Problems, name, val string) {
	switch {
	case len(val) > maxParamLen:
		p.Add(-1, name, fmt.Sprintf("longer than %d characters", maxParamLen))
	case !utf8.ValidString(val):
		p.Add(-1, name, "not valid UTF-8")
	case hasControl(val):
		p.Add(-1, name, "contains a control character")
	}
}

// checkedName makes an unknown parameter's name safe to echo in an error.
func checkedName(name string) string {
	if len(name) > 64 || !utf8.ValidString(name) || hasControl(name) {
		return fmt.Sprintf("%.64q", name)
	}
	return name
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}
