package httpapi

import (
	"context"
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
		"target_id", "trace_id", "ip", "q", "since", "until", "sort", "order", "tenant"}
	listParams       = append(slices.Clip(filterParams), "limit", "cursor")
	targetListParams = slices.DeleteFunc(slices.Clone(listParams), func(p string) bool {
		return p == "target_type" || p == "target_id"
	})
	exportParams = append(slices.Clip(filterParams), "format")
)

// routeParams lists the query parameters of every route, keyed by its
// pattern in the route table; a route missing here takes none. checkQuery
// refuses any other parameter, so a mistyped or unsupported one is a 400
// that names it, never a filter silently ignored. The OpenAPI document
// lists the same parameters; a test checks.
var routeParams = map[string][]string{
	"GET /v1/events":                                 listParams,
	"GET /v1/events/export":                          exportParams,
	"GET /v1/targets/{type}/{id}/events":             targetListParams,
	"GET /v1/events/{id}/proof":                      {"tree_size"},
	"GET /v1/events/{id}/logs":                       {"limit", "cursor"},
	"GET /v1/ledger/checkpoint":                      {"log"},
	"GET /v1/ledger/consistency":                     {"log", "from", "to"},
	"GET /v1/ledger/rows":                            {"log", "from", "limit"},
	"GET /v1/ledger/tiles":                           {"log", "tile"},
	"GET /v1/ledger/pruned":                          {"log"},
	"GET /v1/ledger/moved":                           {"log"},
	"GET /v1/ledger/pubkey":                          {"log"},
	"GET /v1/forwarders/{name}":                      {"tenant"},
	"PATCH /v1/forwarders/{name}":                    {"tenant"},
	"DELETE /v1/forwarders/{name}":                   {"tenant"},
	"GET /v1/forwarders/{name}/dead-letters":         {"tenant", "limit", "cursor"},
	"POST /v1/forwarders/{name}/dead-letters/replay": {"tenant"},
	"GET /v1/actions":                                {"tenant"},
	"GET /v1/actors":                                 {"tenant", "prefix", "limit"},
	"GET /v1/target-types":                           {"tenant"},
	"GET /v1/actions/{action}/schemas":               {"tenant"},
	"GET /v1/actions/{action}/schemas/{version}":     {"tenant"},
	"GET /v1/validation":                             {"tenant"},
	"GET /v1/retention":                              {"tenant"},
	"POST /v1/retention/run":                         {"tenant"},
	"GET /v1/holds":                                  {"tenant"},
	"GET /v1/alerts/rules":                           {"tenant"},
	"GET /v1/sso":                                    {"tenant"},
	"DELETE /v1/sso":                                 {"tenant"},
	"GET /v1/settings/mfa":                           {"tenant"},
	"PUT /v1/settings/mfa":                           {"tenant"},
	"GET /v1/users":                                  {"tenant"},
	"POST /v1/users":                                 {"tenant"},
	"GET /v1/users/{id}":                             {"tenant"},
	"PATCH /v1/users/{id}":                           {"tenant"},
	"DELETE /v1/users/{id}":                          {"tenant"},
	"POST /v1/users/{id}/reset-password":             {"tenant"},
	"GET /v1/users/{id}/sessions":                    {"tenant"},
	"DELETE /v1/users/{id}/sessions/{session}":       {"tenant"},
}

// repeatable are the parameters that may be given more than once: action
// matches any of its values, and tile names each tile to fetch.
var repeatable = []string{"action", "tile"}

type queryKey struct{}

// checkQuery parses r's query strictly (trail.ParseQueryString) and checks
// it against the parameters of route before next sees r. Handlers read the
// result with query, never with r.URL.Query(), which drops what it cannot
// parse (a pair with a raw ';', every parameter past 10,000) and so would
// read "action=x;" as no filter at all.
func (s *Server) checkQuery(route string, next http.Handler) http.Handler {
	allowed := routeParams[route]
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := parseQuery(r.URL.RawQuery, allowed)
		if err != nil {
			s.error(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), queryKey{}, v)))
	})
}

// parseQuery parses raw strictly and checks it against allowed.
func parseQuery(raw string, allowed []string) (url.Values, error) {
	v, err := trail.ParseQueryString(raw)
	if err != nil {
		return nil, err
	}
	return v, checkParams(v, allowed)
}

// query returns r's query parameters as checkQuery parsed and checked
// them. buildHandler puts every route behind checkQuery; a handler reached
// any other way is a bug, and panics rather than read a query unchecked.
func query(r *http.Request) url.Values {
	v, ok := r.Context().Value(queryKey{}).(url.Values)
	if !ok {
		panic("httpapi: query read on a route without checkQuery")
	}
	return v
}

// maxParamLen bounds one query parameter value; no stored field is longer.
const maxParamLen = 1024

// eventQuery parses r's query parameters (checked by checkQuery) into a
// query scoped to what r's key may read, with target fixed when not nil.
// It returns a nil query when the key asked for a tenant it may not see:
// the answer is then empty, the same as for a tenant with no events.
func eventQuery(r *http.Request, target *trail.Target) (*trail.Query, error) {
	v := query(r)
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
	case tenant == trail.OperatorTenant:
		// The operator log: a platform key's to read; for a tenant key it
		// is no tenant it may see.
		return key.ReadScope(tenant), key.Platform, nil
	case !trail.ValidTenant(tenant):
		return scope, false, trail.Invalid("tenant", "must be 1 to 64 letters, digits, '.', '_' or '-', or @operator")
	case !key.Platform && tenant != key.Tenant:
		return scope, false, nil
	}
	return key.ReadScope(tenant), true, nil
}

// checkParams rejects parameters not in allowed, repeated ones (except
// those in repeatable), and values that no store could hold: invalid
// UTF-8, control characters, very long strings.
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
		case len(v[name]) > 1 && !slices.Contains(repeatable, name):
			p.Add(-1, name, "given more than once")
		default:
			for _, val := range v[name] {
				checkValue(&p, name, val)
			}
		}
	}
	return p.Err()
}

// checkValue refuses an empty value too: "tenant=" (a template whose
// variable was empty) is not the same request as no tenant parameter,
// which for a platform key means every log or the operator's own.
func checkValue(p *trail.Problems, name, val string) {
	switch {
	case val == "":
		p.Add(-1, name, "empty: give a value or leave the parameter out")
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
