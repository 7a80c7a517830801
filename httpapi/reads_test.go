package httpapi_test

import (
	"testing"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/httpapi"
	"github.com/trailhq/trail/internal/teststore"
)

func auditReads(c *httpapi.Config) { c.AuditReads = true }

// recorded returns the events of tenant's own log with action.
func (e *env) recorded(tb testing.TB, tenant, action string) []*trail.Event {
	tb.Helper()
	return teststore.Recorded(tb, e.store, tenant, action)
}

// TestAuditReads: with AuditReads, reading an event, an entity's events or
// a filtered listing through the API records it in the key's log, naming
// the key; a plain listing and a failed read record nothing.
func TestAuditReads(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s, auditReads)
		key := e.newKey(t, "acme", false, trail.ScopeEventsRead, trail.ScopeEventsWrite)
		keyID, _ := trail.KeyIDFromSecret(key)
		created := e.ingest(t, key, event("doc.read", "targets", `[{"type":"document","id":"d1"}]`))[0]

		e.do(t, "GET", "/v1/events?limit=5", key, "").want(t, 200)
		if got := e.recorded(t, "acme", trail.ActionEventsSearched); len(got) != 0 {
			t.Errorf("a plain listing recorded %d searches", len(got))
		}
		e.do(t, "GET", "/v1/events?action=doc.read&limit=5", key, "").want(t, 200)
		e.do(t, "GET", "/v1/events/"+created, key, "").want(t, 200)
		e.do(t, "GET", "/v1/targets/document/d1/events", key, "").want(t, 200)
		e.do(t, "GET", "/v1/events/01JNOSUCHEVENT00000000000", key, "").want(t, 404)
		e.do(t, "GET", "/v1/events?nope=1", key, "").want(t, 400)

		searched := e.recorded(t, "acme", trail.ActionEventsSearched)
		if len(searched) != 1 || searched[0].Actor.ID != keyID || string(searched[0].Metadata) != `{"filters":{"action":"doc.read"},"source":"api"}` {
			t.Errorf("events.searched %+v", searched)
		}
		viewed := e.recorded(t, "acme", trail.ActionEventViewed)
		if len(viewed) != 1 || viewed[0].Targets[0].ID != created {
			t.Errorf("event.viewed %+v", viewed)
		}
		entity := e.recorded(t, "acme", trail.ActionEntityViewed)
		if len(entity) != 1 || entity[0].Targets[0].Type != "document" || entity[0].Targets[0].ID != "d1" {
			t.Errorf("entity.viewed %+v", entity)
		}
	})
}

// TestAuditReadsOff: without AuditReads the API records no reads, and
// with it a read that cannot be recorded is refused.
func TestAuditReadsOffAndFailClosed(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		off := newEnv(t, s)
		key := off.newKey(t, "acme", false, trail.ScopeEventsRead)
		off.do(t, "GET", "/v1/events?action=doc.read", key, "").want(t, 200)
		if got := off.recorded(t, "acme", trail.ActionEventsSearched); len(got) != 0 {
			t.Errorf("reads not audited, yet %d searches recorded", len(got))
		}
		on := newEnv(t, s, auditReads)
		on.writer.Close()
		resp := on.do(t, "GET", "/v1/events?action=doc.read", key, "")
		if resp.status < 500 || string(resp.body) == "" {
			t.Errorf("a read that cannot be recorded answered %d %s", resp.status, resp.body)
		}
	})
}
