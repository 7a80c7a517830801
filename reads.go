package trail

import (
	"net/url"
	"strings"
)

// Data access actions: Trail records them when people read the audit log
// (which reads depends on the audit_reads setting of trail serve).
const (
	// ActionEventViewed is one event read by its id; the target is the
	// event.
	ActionEventViewed = "event.viewed"
	// ActionEntityViewed is the timeline of one entity read; the target is
	// the entity.
	ActionEntityViewed = "entity.viewed"
	// ActionEventsSearched is a listing of events read with filters; the
	// metadata holds the filters.
	ActionEventsSearched = "events.searched"
	// ActionTenantViewedByOperator is a platform console user (the
	// operator) opening a tenant's log; it is recorded in that tenant's
	// log, so the tenant sees when the operator looked. The metadata names
	// the page ("events" or "event") and the target is the event or entity
	// read, if any.
	ActionTenantViewedByOperator = "tenant.viewed_by_operator"
)

// Values of the audit_reads setting: which reads of the audit log are
// recorded as data access events.
const (
	AuditReadsOff     = "off"     // none
	AuditReadsConsole = "console" // the web console's (the default)
	AuditReadsAll     = "all"     // the console's and the API's
)

// notFilters are the listing parameters that page or order events rather
// than select them.
var notFilters = map[string]bool{"sort": true, "order": true, "limit": true, "cursor": true, "page": true}

// SearchFilters returns the parameters of a listing that select events,
// with their values (a repeated parameter's values joined by commas); nil
// when none does, as for the plain timeline. It is what a data access
// event records of a search.
func SearchFilters(v url.Values) map[string]string {
	var out map[string]string
	for k, vals := range v {
		vals = slicesNonEmpty(vals)
		if notFilters[k] || len(vals) == 0 {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[k] = strings.Join(vals, ",")
	}
	return out
}

func slicesNonEmpty(vals []string) []string {
	var out []string
	for _, s := range vals {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
