package httpapi

import "slices"

// RouteParams returns the query parameters the route with pattern takes,
// for the hostile-input tests.
func RouteParams(pattern string) []string { return slices.Clone(routeParams[pattern]) }

// RouteScopes returns the scope of every route ("" for public ones), for
// the hostile-input tests.
func (s *Server) RouteScopes() map[string]string {
	m := map[string]string{}
	for _, rt := range s.routes() {
		m[rt.pattern] = rt.scope
	}
	return m
}
