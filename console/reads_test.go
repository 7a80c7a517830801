package console_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/console"
)

func auditReads(c *console.Config) { c.AuditReads = true }

// TestAuditReads: with AuditReads, an event's page records event.viewed,
// an entity's timeline entity.viewed and a filtered listing
// events.searched, in the reader's tenant, naming the reader; the plain
// timeline records nothing.
func TestAuditReads(t *testing.T) { forEachStore(t, testAuditReads) }

func testAuditReads(t *testing.T, newEnv envMaker) {
	e := newEnv(t, auditReads)
	events := e.seed(t, 30)
	c := e.signedIn(t, e.admin)

	if status, _ := e.get(t, c, "/events"); status != 200 {
		t.Fatalf("GET /events: %d", status)
	}
	if got := e.recorded(t, "acme", trail.ActionEventsSearched); len(got) != 0 {
		t.Errorf("the plain timeline recorded %d searches", len(got))
	}
	if status, _ := e.get(t, c, "/events?action=document.shared&sort=action"); status != 200 {
		t.Fatalf("GET /events?action=...: %d", status)
	}
	searched := e.recorded(t, "acme", trail.ActionEventsSearched)
	if len(searched) != 1 || searched[0].Actor.ID != e.admin.ID || searched[0].Context.IP == "" {
		t.Fatalf("events.searched: %d events, first %+v", len(searched), searched)
	}
	var meta struct {
		Filters map[string]string
		Source  string
	}
	json.Unmarshal(searched[0].Metadata, &meta)
	if len(meta.Filters) != 1 || meta.Filters["action"] != "document.shared" || meta.Source != "console" {
		t.Errorf("events.searched metadata %s", searched[0].Metadata)
	}

	if status, _ := e.get(t, c, "/events/"+events[0].ID); status != 200 {
		t.Fatalf("GET the event page: %d", status)
	}
	viewed := e.recorded(t, "acme", trail.ActionEventViewed)
	if len(viewed) != 1 || viewed[0].Targets[0].ID != events[0].ID || viewed[0].Targets[0].Type != "event" {
		t.Errorf("event.viewed %+v", viewed)
	}

	if status, _ := e.get(t, c, "/entity?target_type=document&target_id=d_1042"); status != 200 {
		t.Fatalf("GET the entity page: %d", status)
	}
	entity := e.recorded(t, "acme", trail.ActionEntityViewed)
	if len(entity) != 1 || entity[0].Targets[0].Type != "document" || entity[0].Targets[0].ID != "d_1042" {
		t.Errorf("entity.viewed %+v", entity)
	}
	if got := e.recorded(t, "acme", trail.ActionEventsSearched); len(got) != 1 {
		t.Errorf("the entity page also recorded a search: %d searches", len(got))
	}
}

// TestAuditReadsOff: without AuditReads, reads record nothing.
func TestAuditReadsOff(t *testing.T) { forEachStore(t, testAuditReadsOff) }

func testAuditReadsOff(t *testing.T, newEnv envMaker) {
	e := newEnv(t)
	events := e.seed(t, 10)
	c := e.signedIn(t, e.admin)
	for _, path := range []string{"/events?action=document.shared", "/events/" + events[0].ID,
		"/entity?target_type=document&target_id=d_1042"} {
		if status, _ := e.get(t, c, path); status != 200 {
			t.Fatalf("GET %s: %d", path, status)
		}
	}
	for _, action := range []string{trail.ActionEventsSearched, trail.ActionEventViewed, trail.ActionEntityViewed} {
		if got := e.recorded(t, "acme", action); len(got) != 0 {
			t.Errorf("%d %s events with reads not audited", len(got), action)
		}
	}
}

// TestAuditReadsFailClosed: when the read cannot be recorded, the page is
// not shown.
func TestAuditReadsFailClosed(t *testing.T) { forEachStore(t, testAuditReadsFailClosed) }

func testAuditReadsFailClosed(t *testing.T, newEnv envMaker) {
	e := newEnv(t, auditReads)
	events := e.seed(t, 10)
	c := e.signedIn(t, e.admin)
	e.writer.Close()
	status, body := e.get(t, c, "/events/"+events[0].ID)
	if status == http.StatusOK || strings.Contains(body, events[0].TraceID) {
		t.Errorf("GET the event page with no way to record it: %d, and it shows the event", status)
	}
}
