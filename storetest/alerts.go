package storetest

import (
	"testing"
	"time"

	"github.com/trailhq/trail"
)

func newRule(id, tenant string, sec int) *trail.AlertRule {
	return &trail.AlertRule{ID: id, Tenant: tenant, Name: "rule " + id,
		Filter:    trail.AlertFilter{Actions: []string{"login.failure"}},
		Condition: trail.AlertCondition{Type: trail.AlertThreshold, Count: 5, Window: trail.Duration(10 * time.Minute), GroupBy: trail.GroupByActor},
		Webhook:   trail.AlertWebhook{URL: "http://127.0.0.1:1/hook", Format: trail.WebhookJSON, Secret: "s3cret"},
		CreatedAt: base.Add(time.Duration(sec) * time.Second)}
}

func testAlertRules(t *testing.T, open func(t *testing.T) trail.Store) {
	as := open(t)
	rules := []*trail.AlertRule{newRule("r1", "acme", 0), newRule("r2", "globex", 1), newRule("r3", "", 2)}
	for _, r := range rules {
		if err := as.CreateAlertRule(ctx(t), r); err != nil {
			t.Fatalf("CreateAlertRule: %v", err)
		}
	}
	wantCode(t, as.CreateAlertRule(ctx(t), rules[0]), trail.ECONFLICT)
	got, err := as.AlertRules(ctx(t), trail.Scope{Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "acme rules", got, rules[:1])
	all, _ := as.AlertRules(ctx(t), trail.Scope{All: true})
	wantEqual(t, "all rules", all, rules)
	_, err = as.AlertRule(ctx(t), trail.Scope{Tenant: "acme"}, "r2")
	wantCode(t, err, trail.ENOTFOUND)
	wantCode(t, as.DeleteAlertRule(ctx(t), trail.Scope{Tenant: "acme"}, "r2"), trail.ENOTFOUND)
	r, err := as.AlertRule(ctx(t), trail.Scope{All: true}, "r2")
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "rule r2", r, rules[1])

	changed := *rules[0]
	changed.Name, changed.Disabled, changed.Condition = "renamed", true, trail.AlertCondition{Type: trail.AlertAny}
	if err := as.UpdateAlertRule(ctx(t), trail.Scope{Tenant: "acme"}, &changed); err != nil {
		t.Fatalf("UpdateAlertRule: %v", err)
	}
	r, err = as.AlertRule(ctx(t), trail.Scope{Tenant: "acme"}, "r1")
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "updated rule r1", r, &changed)
	other := *rules[1]
	other.Name = "not yours"
	wantCode(t, as.UpdateAlertRule(ctx(t), trail.Scope{Tenant: "acme"}, &other), trail.ENOTFOUND)
	r, _ = as.AlertRule(ctx(t), trail.Scope{All: true}, "r2")
	wantEqual(t, "rule r2 after another tenant's update", r, rules[1])
}

func newFiring(id, rule, group string, start time.Time) *trail.AlertFiring {
	return &trail.AlertFiring{ID: id, RuleID: rule, Tenant: "acme", GroupKey: group, WindowStart: start,
		WindowEnd: start.Add(time.Minute), Count: 5, EventIDs: []string{"e1"}, FiredAt: start.Add(time.Minute),
		AlertEventID: "a-" + id, NextAttemptAt: start.Add(time.Minute)}
}

func testAlertProgress(t *testing.T, open func(t *testing.T) trail.Store) {
	as := open(t)
	for _, r := range []*trail.AlertRule{newRule("r1", "acme", 0), newRule("r2", "acme", 1)} {
		if err := as.CreateAlertRule(ctx(t), r); err != nil {
			t.Fatal(err)
		}
	}
	cursor, windows, err := as.AlertState(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "fresh state", [2]any{cursor, len(windows)}, [2]any{int64(-1), 0})
	w := &trail.AlertWindow{RuleID: "r1", GroupKey: "user/u1", Times: []time.Time{base}, EventIDs: []string{"e1"}}
	w2 := &trail.AlertWindow{RuleID: "r2", GroupKey: "user/u1", Times: []time.Time{base}, EventIDs: []string{"e1"}}
	f := newFiring("f1", "r1", "user/u1", base)
	save := &trail.AlertProgress{After: -1, Cursor: 10, Windows: []*trail.AlertWindow{w, w2}, Firings: []*trail.AlertFiring{f}}
	if err := as.SaveAlertProgress(ctx(t), save); err != nil {
		t.Fatal(err)
	}
	wantCode(t, as.SaveAlertProgress(ctx(t), &trail.AlertProgress{After: -1, Cursor: 20,
		Deleted: []trail.AlertWindowKey{{RuleID: "r1", GroupKey: "user/u1"}}}), trail.ECONFLICT)
	// The same window of the same group fires once, whatever the firing id.
	dup := newFiring("f2", "r1", "user/u1", base)
	if err := as.SaveAlertProgress(ctx(t), &trail.AlertProgress{After: 10, Cursor: 12, Firings: []*trail.AlertFiring{dup}}); err != nil {
		t.Fatal(err)
	}
	cursor, windows, _ = as.AlertState(ctx(t))
	wantEqual(t, "cursor", cursor, int64(12))
	wantEqual(t, "windows", len(windows), 2)
	firings, _ := as.AlertFirings(ctx(t), "r1", 10)
	wantEqual(t, "firings", firings, []*trail.AlertFiring{f})
	testFiringDelivery(t, as, f)
}

func testFiringDelivery(t *testing.T, as trail.AlertStore, f *trail.AlertFiring) {
	due, err := as.PendingAlertFirings(ctx(t), f.NextAttemptAt.Add(-time.Second), 10)
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "due before next attempt", len(due), 0)
	due, _ = as.PendingAlertFirings(ctx(t), f.NextAttemptAt, 10)
	wantEqual(t, "due", due, []*trail.AlertFiring{f})
	f.Recorded, f.Attempts, f.DeliveredAt = true, 1, base.Add(time.Hour)
	if err := as.UpdateAlertFiring(ctx(t), f); err != nil {
		t.Fatal(err)
	}
	due, _ = as.PendingAlertFirings(ctx(t), base.Add(24*time.Hour), 10)
	wantEqual(t, "due after delivery", len(due), 0)
	firings, _ := as.AlertFirings(ctx(t), "r1", 10)
	wantEqual(t, "delivered firing", firings, []*trail.AlertFiring{f})
	if err := as.DeleteAlertRule(ctx(t), trail.Scope{Tenant: "acme"}, "r2"); err != nil {
		t.Fatal(err)
	}
	_, windows, _ := as.AlertState(ctx(t))
	wantEqual(t, "windows after deleting r2", len(windows), 1)
}

func testStartAlertCursor(t *testing.T, open func(t *testing.T) trail.Store) {
	s := open(t)
	as := s
	appendEach(t, s, ev("acme", "a.b", "u1", 0), ev("acme", "a.b", "u1", 1))
	head, err := as.StartAlertCursor(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	evs, _ := s.StreamEvents(ctx(t), 0, 10)
	wantEqual(t, "start", head, evs[1].Pos)
	appendEach(t, s, ev("acme", "a.b", "u1", 2))
	again, _ := as.StartAlertCursor(ctx(t))
	wantEqual(t, "start again (kept)", again, head)
}

func testUpdateAlertRuleWindows(t *testing.T, open func(t *testing.T) trail.Store) {
	as := open(t)
	for _, r := range []*trail.AlertRule{newRule("r1", "acme", 0), newRule("r2", "acme", 1)} {
		if err := as.CreateAlertRule(ctx(t), r); err != nil {
			t.Fatal(err)
		}
	}
	cursor, err := as.StartAlertCursor(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	w := func(rule string) *trail.AlertWindow {
		return &trail.AlertWindow{RuleID: rule, GroupKey: "user:u1", Times: []time.Time{base}, EventIDs: []string{"e1"}}
	}
	if err := as.SaveAlertProgress(ctx(t), &trail.AlertProgress{After: cursor, Cursor: cursor,
		Windows: []*trail.AlertWindow{w("r1"), w("r2")}}); err != nil {
		t.Fatal(err)
	}
	changed := newRule("r1", "acme", 0)
	changed.Condition.Count = 3
	if err := as.UpdateAlertRule(ctx(t), trail.Scope{Tenant: "acme"}, changed); err != nil {
		t.Fatal(err)
	}
	_, windows, err := as.AlertState(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "windows after r1 changed", windows, []*trail.AlertWindow{w("r2")})
}
