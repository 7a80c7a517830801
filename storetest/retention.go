package storetest

import (
	"testing"
	"time"

	"github.com/trailhq/trail"
)

const day = 24 * time.Hour

// dayEvent is an event of tenant that occurred days after base.
func dayEvent(tenant string, days int, targets ...trail.Target) *trail.Event {
	e := ev(tenant, "doc.read", "u1", 0, targets...)
	e.OccurredAt = base.Add(time.Duration(days) * day)
	e.ReceivedAt = e.OccurredAt
	e.ID = trail.NewID(e.OccurredAt)
	return e
}

func testRetentionPolicies(t *testing.T, open func(t *testing.T) trail.Store) {
	rs := open(t)
	p, err := rs.RetentionPolicy(ctx(t), "acme")
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "default policy", *p, trail.RetentionPolicy{Tenant: "acme", Days: trail.DefaultRetentionDays})
	want := trail.RetentionPolicy{Tenant: "acme", Days: 30, UpdatedAt: base}
	if err := rs.SetRetentionPolicy(ctx(t), &trail.RetentionPolicy{Tenant: "acme", Days: 7, UpdatedAt: base}); err != nil {
		t.Fatal(err)
	}
	if err := rs.SetRetentionPolicy(ctx(t), &want); err != nil {
		t.Fatal(err)
	}
	p, _ = rs.RetentionPolicy(ctx(t), "acme")
	wantEqual(t, "policy", *p, want)
	p, _ = rs.RetentionPolicy(ctx(t), "")
	wantEqual(t, "system log policy", p.Days, trail.DefaultRetentionDays)
}

func testHolds(t *testing.T, open func(t *testing.T) trail.Store) {
	rs := open(t)
	holds := []*trail.Hold{
		{ID: "h1", Tenant: "acme", Kind: trail.HoldTarget, TargetType: "user", TargetID: "u9", Reason: "case 12", CreatedAt: base, CreatedBy: "k_1"},
		{ID: "h2", Tenant: "acme", Kind: trail.HoldTimeRange, Since: base, Until: base.Add(day), CreatedAt: base.Add(time.Second), CreatedBy: "k_1"},
		{ID: "h3", Tenant: "globex", Kind: trail.HoldTenant, CreatedAt: base.Add(2 * time.Second), CreatedBy: "k_2"},
	}
	for _, h := range holds {
		if err := rs.CreateHold(ctx(t), h); err != nil {
			t.Fatalf("CreateHold: %v", err)
		}
	}
	wantCode(t, rs.CreateHold(ctx(t), holds[0]), trail.ECONFLICT)
	got, err := rs.Holds(ctx(t), trail.Scope{Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "acme holds", got, holds[:2])
	all, _ := rs.Holds(ctx(t), trail.Scope{All: true})
	wantEqual(t, "all holds", len(all), 3)
	_, err = rs.DeleteHold(ctx(t), trail.Scope{Tenant: "acme"}, "h3")
	wantCode(t, err, trail.ENOTFOUND)
	h, err := rs.DeleteHold(ctx(t), trail.Scope{Tenant: "acme"}, "h1")
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "deleted hold", h, holds[0])
	_, err = rs.DeleteHold(ctx(t), trail.Scope{All: true}, "h1")
	wantCode(t, err, trail.ENOTFOUND)
}

// testDeleteEvents stores acme events on days 0..5 (Seq 0..5), holds two
// of them, and deletes the expired prefix in small steps.
func testDeleteEvents(t *testing.T, open func(t *testing.T) trail.Store) {
	s := open(t)
	rs := s
	var acme []*trail.Event
	for d := range 6 {
		acme = append(acme, dayEvent("acme", d, target("user", "u"+string(rune('0'+d)))))
	}
	appendEach(t, s, acme...)
	appendEach(t, s, dayEvent("globex", 0), dayEvent("globex", 1))
	t.Run("RetentionEnd", func(t *testing.T) {
		for _, tc := range []struct {
			from   int64
			cutoff time.Time
			want   int64
		}{
			{0, base.Add(3*day - time.Hour), 3},
			{4, base.Add(3*day - time.Hour), 4},
			{0, base, 0},
			{0, base.Add(100 * day), 6},
		} {
			got, err := rs.RetentionEnd(ctx(t), "acme", tc.from, tc.cutoff)
			if err != nil {
				t.Fatal(err)
			}
			wantEqual(t, "end", got, tc.want)
		}
	})
	for _, h := range []*trail.Hold{
		{ID: "h1", Tenant: "acme", Kind: trail.HoldTarget, TargetType: "user", TargetID: "u1", CreatedAt: base},
		{ID: "h2", Tenant: "acme", Kind: trail.HoldTimeRange, Since: base.Add(2 * day), Until: base.Add(3 * day), CreatedAt: base},
		{ID: "h3", Tenant: "globex", Kind: trail.HoldTenant, CreatedAt: base},
	} {
		if err := rs.CreateHold(ctx(t), h); err != nil {
			t.Fatal(err)
		}
	}
	n, next, err := rs.DeleteEvents(ctx(t), "acme", 0, 5, 2)
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "first step (deleted, next)", [2]int64{n, next}, [2]int64{1, 2})
	n, next, err = rs.DeleteEvents(ctx(t), "acme", next, 5, 10)
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "second step (deleted, next)", [2]int64{n, next}, [2]int64{2, 5})
	left, _ := s.LogEvents(ctx(t), "acme", 0, 100)
	wantEqual(t, "acme events left", ids(left), ids([]*trail.Event{acme[1], acme[2], acme[5]}))
	_, err = s.Event(ctx(t), trail.Scope{All: true}, acme[0].ID)
	wantCode(t, err, trail.ENOTFOUND)
	page, err := s.Events(ctx(t), &trail.Query{Scope: trail.Scope{Tenant: "acme"}, TargetType: "user", TargetID: "u3"})
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "entity view of a deleted event", len(page.Events), 0)
	n, _, _ = rs.DeleteEvents(ctx(t), "globex", 0, 2, 10)
	wantEqual(t, "deleted under a tenant hold", n, int64(0))
	testDropPartitions(t, s)
}

// testDropPartitions drops whole months on stores that can.
func testDropPartitions(t *testing.T, s trail.Store) {
	pd, ok := s.(trail.PartitionDropper)
	if !ok {
		return
	}
	rs := s
	old := dayEvent("initech", -400)
	kept := dayEvent("initech", -300, target("user", "u9"))
	appendEach(t, s, old, kept)
	hold := &trail.Hold{ID: "h9", Tenant: "initech", Kind: trail.HoldTarget, TargetType: "user", TargetID: "u9", CreatedAt: base}
	if err := rs.CreateHold(ctx(t), hold); err != nil {
		t.Fatal(err)
	}
	got, err := pd.DropPrunedPartitions(ctx(t), base.Add(-30*day), map[string]int64{"initech": 2})
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "dropped per tenant", got, map[string]int64{"initech": 1})
	left, _ := s.LogEvents(ctx(t), "initech", 0, 10)
	wantEqual(t, "initech events left", ids(left), ids([]*trail.Event{kept}))
	appendEach(t, s, dayEvent("initech", -401)) // its month comes back
}
