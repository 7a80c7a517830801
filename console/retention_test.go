package console_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/teststore"
	"github.com/trailhq/trail/retention"
)

// TestRetentionPage sets the retention period, places and releases legal
// holds and lists the last runs, each change recorded as the API records
// it; bad input is a 400 that names the field and changes nothing.
func TestRetentionPage(t *testing.T) {
	e := newEnv(t)
	e.seed(t, 40)
	c := e.signedIn(t, e.admin)
	_, page := e.get(t, c, "/settings/retention")
	token := csrf(t, page)
	if !strings.Contains(page, `value="365"`) {
		t.Fatal("the page does not show the default retention of 365 days")
	}
	t.Run("SetDays", func(t *testing.T) {
		resp, _ := e.post(t, c, "/settings/retention", url.Values{"csrf": {token}, "days": {"1"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("status %d, want 303", resp.StatusCode)
		}
		if p, _ := e.db.RetentionPolicy(t.Context(), "acme"); p.Days != 1 {
			t.Fatalf("days = %d, want 1", p.Days)
		}
		rec := e.recorded(t, "acme", "retention.changed")
		if len(rec) != 1 || rec[0].Actor.ID != e.admin.ID || !strings.Contains(string(rec[0].Metadata), `"days":1`) {
			t.Fatalf("retention.changed events %+v, want one by the admin with days 1", rec)
		}
	})
	t.Run("ErrDays", func(t *testing.T) {
		for _, days := range []string{"0", "-3", "x", "", "365001", "1.5"} {
			before := e.consoleSnapshot(t)
			resp, body := e.post(t, c, "/settings/retention", url.Values{"csrf": {token}, "days": {days}})
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "days: must be an integer from 1 to 365000") {
				t.Fatalf("days %q: status %d, want 400 naming days", days, resp.StatusCode)
			}
			if p, _ := e.db.RetentionPolicy(t.Context(), "acme"); p.Days != 1 || e.consoleSnapshot(t) != before {
				t.Fatalf("days %q changed something", days)
			}
		}
	})
	var holdID string
	t.Run("PlaceHold", func(t *testing.T) {
		resp, _ := e.post(t, c, "/settings/holds", url.Values{"csrf": {token}, "kind": {"target"},
			"target_type": {"document"}, "target_id": {"d_1042"}, "reason": {"Litigation 2026-114"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("status %d, want 303", resp.StatusCode)
		}
		holds, _ := e.db.Holds(t.Context(), trail.Scope{Tenant: "acme"})
		if len(holds) != 1 || holds[0].TargetID != "d_1042" || holds[0].CreatedBy != e.admin.ID {
			t.Fatalf("holds %+v, want one on d_1042 by the admin", holds)
		}
		holdID = holds[0].ID
		if rec := e.recorded(t, "acme", "hold.created"); len(rec) != 1 || rec[0].Targets[0].ID != holdID {
			t.Fatalf("hold.created events %+v", rec)
		}
		resp, _ = e.post(t, c, "/settings/holds", url.Values{"csrf": {token}, "kind": {"time_range"},
			"since": {"2026-01-01T00:00"}, "until": {"2026-02-01T00:00"}})
		holds, _ = e.db.Holds(t.Context(), trail.Scope{Tenant: "acme"})
		if resp.StatusCode != http.StatusSeeOther || len(holds) != 2 || holds[1].Since.Month() != 1 || holds[1].Until.Month() != 2 {
			t.Fatalf("time range hold: status %d, holds %+v", resp.StatusCode, holds)
		}
	})
	t.Run("ErrHold", func(t *testing.T) {
		for _, tt := range []struct {
			form url.Values
			want string
		}{
			{url.Values{"kind": {"target"}, "target_type": {"document"}}, "target_id: required"},
			{url.Values{"kind": {"forever"}}, "kind: must be tenant, target, time_range"},
			{url.Values{"kind": {"time_range"}, "since": {"2026-02-01T00:00"}, "until": {"2026-01-01T00:00"}}, "until: must be after since"},
			{url.Values{"kind": {"time_range"}, "since": {"yesterday"}, "until": {"2026-01-01T00:00"}}, "since: required: an RFC 3339"},
			{url.Values{"kind": {"tenant"}, "target_id": {"d_1"}}, `target_type: belongs to a hold of kind`},
			{url.Values{"kind": {"tenant"}, "reason": {"a\x01b"}}, "reason: must be at most 1000 characters"},
		} {
			before := e.consoleSnapshot(t)
			tt.form.Set("csrf", token)
			resp, body := e.post(t, c, "/settings/holds", tt.form)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, html.EscapeString(tt.want)) {
				t.Fatalf("form %v: status %d, want 400 with %q", tt.form, resp.StatusCode, tt.want)
			}
			if holds, _ := e.db.Holds(t.Context(), trail.Scope{Tenant: "acme"}); len(holds) != 2 || e.consoleSnapshot(t) != before {
				t.Fatalf("form %v changed something", tt.form)
			}
		}
	})
	t.Run("LastRuns", func(t *testing.T) {
		r := retention.New(retention.Config{Store: e.db, Writer: e.writer, Now: e.now})
		teststore.Seal(t, teststore.Ledger(t, e.db))
		tenant := "acme"
		if _, err := r.RunOnce(t.Context(), &tenant, nil); err != nil {
			t.Fatal(err)
		}
		_, page := e.get(t, c, "/settings/retention")
		runs := e.recorded(t, "acme", retention.ActionDeleted)
		if len(runs) != 1 {
			t.Fatalf("%d retention.deleted events, want 1", len(runs))
		}
		if !strings.Contains(page, "1 days") || !strings.Contains(page, "/events/"+runs[0].ID) || strings.Contains(page, "No run has deleted events yet") {
			t.Fatalf("the page does not list the run:\n%s", page)
		}
	})
	t.Run("ErrReleaseOtherTenant", func(t *testing.T) {
		g := e.signedIn(t, e.globex)
		_, gp := e.get(t, g, "/settings/retention")
		resp, _ := e.post(t, g, "/settings/holds/"+holdID+"/release", url.Values{"csrf": {csrf(t, gp)}})
		if holds, _ := e.db.Holds(t.Context(), trail.Scope{Tenant: "acme"}); resp.StatusCode != http.StatusNotFound || len(holds) != 2 {
			t.Fatalf("globex releasing acme's hold: status %d, %d holds left", resp.StatusCode, len(holds))
		}
	})
	t.Run("Release", func(t *testing.T) {
		resp, _ := e.post(t, c, "/settings/holds/"+holdID+"/release", url.Values{"csrf": {token}})
		holds, _ := e.db.Holds(t.Context(), trail.Scope{Tenant: "acme"})
		if resp.StatusCode != http.StatusSeeOther || len(holds) != 1 {
			t.Fatalf("release: status %d, %d holds left", resp.StatusCode, len(holds))
		}
		if rec := e.recorded(t, "acme", "hold.released"); len(rec) != 1 || rec[0].Targets[0].ID != holdID {
			t.Fatalf("hold.released events %+v", rec)
		}
	})
}
