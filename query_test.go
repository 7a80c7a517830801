package trail_test

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
)

func TestParseQuery(t *testing.T) {
	t.Run("Defaults", func(t *testing.T) {
		q, err := trail.ParseQuery(url.Values{})
		if err != nil {
			t.Fatal(err)
		}
		if q.SortKey() != trail.SortOccurredAt || !q.Desc || q.PageLimit() != trail.DefaultLimit {
			t.Errorf("query = %+v, want newest first, limit 100", q)
		}
	})
	t.Run("Filters", func(t *testing.T) {
		v, _ := url.ParseQuery("action=user.*&action=login.failure&actor_id=u1&target_type=team&target_id=t1" +
			"&since=2026-11-01T00:00:00Z&until=2026-11-02T00:00:00Z&sort=action&limit=10&ip=::1")
		q, err := trail.ParseQuery(v)
		if err != nil {
			t.Fatal(err)
		}
		if len(q.Actions) != 2 || q.ActorID != "u1" || q.TargetID != "t1" || q.Desc || q.Limit != 10 ||
			!q.Until.Equal(time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("query = %+v", q)
		}
	})
	for _, tt := range []struct{ name, query, field string }{
		{"BadLimit", "limit=0", "limit"},
		{"LimitTooBig", "limit=1001", "limit"},
		{"LimitNotNumber", "limit=ten", "limit"},
		{"BadSince", "since=yesterday", "since"},
		{"UntilBeforeSince", "since=2026-11-02T00:00:00Z&until=2026-11-01T00:00:00Z", "until"},
		{"BadSort", "sort=ip", "sort"},
		{"SortByName", "sort=actor.name", "sort"},
		{"BadOrder", "order=up", "order"},
		{"BadCursor", "cursor=!!!", "cursor"},
		{"ForgedCursor", "cursor=eyJzIjoib2NjdXJyZWRfYXQiLCJpIjoieCJ9", "cursor"},
		{"BadAction", "action=User", "action"},
		{"BadIP", "ip=nope", "ip"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v, _ := url.ParseQuery(tt.query)
			_, err := trail.ParseQuery(v)
			if trail.ErrorCode(err) != trail.EINVALID || !strings.HasPrefix(trail.ErrorMessage(err), tt.field+":") {
				t.Errorf("err = %v, want invalid naming %q", err, tt.field)
			}
		})
	}
}

func TestCursorRoundTrip(t *testing.T) {
	q := &trail.Query{Sort: trail.SortAction, Limit: 2}
	at := time.Date(2026, 11, 23, 1, 2, 3, 4000, time.UTC)
	events := []*trail.Event{
		{ID: trail.NewID(at), Action: "a", OccurredAt: at},
		{ID: trail.NewID(at), Action: "b", OccurredAt: at},
		{ID: trail.NewID(at), Action: "c", OccurredAt: at},
	}
	page := trail.NewPage(q, events)
	if len(page.Events) != 2 || page.Next == nil {
		t.Fatalf("page = %+v, want 2 events and a next cursor", page)
	}
	v := url.Values{"sort": {"action"}, "cursor": {page.Next.Encode()}}
	got, err := trail.ParseQuery(v)
	if err != nil {
		t.Fatal(err)
	}
	if c := got.After; c.Key != "b" || c.ID != events[1].ID || !c.OccurredAt.Equal(at) {
		t.Errorf("cursor = %+v, want the second event's key", c)
	}
	t.Run("OtherSortRejected", func(t *testing.T) {
		v.Set("sort", "actor")
		if _, err := trail.ParseQuery(v); trail.ErrorCode(err) != trail.EINVALID {
			t.Errorf("err = %v, want invalid", err)
		}
	})
	t.Run("LastPageHasNoCursor", func(t *testing.T) {
		if p := trail.NewPage(q, events[:2]); p.Next != nil {
			t.Errorf("next = %+v, want nil", p.Next)
		}
	})
}

func TestNewID(t *testing.T) {
	a := trail.NewID(time.UnixMilli(1000))
	b := trail.NewID(time.UnixMilli(1001))
	if !trail.ValidID(a) || !trail.ValidID(b) || a >= b || a[14] != '7' {
		t.Errorf("ids %s %s: want valid, version 7, time-ordered", a, b)
	}
	if trail.ValidID("not-an-id") || trail.ValidID(strings.ToUpper(a)) {
		t.Error("ValidID accepted a bad id")
	}
}

func TestSplitActions(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want trail.ActionSet
	}{
		{nil, trail.ActionSet{Any: true}},
		{[]string{"*"}, trail.ActionSet{Any: true}},
		{[]string{"user.created", "user.*"}, trail.ActionSet{Exact: []string{"user.created"}, Prefixes: []string{"user."}}},
	} {
		if got := trail.SplitActions(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SplitActions(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
	if got, want := trail.PrefixEnd("user."), "user/"; got != want {
		t.Errorf("PrefixEnd = %q, want %q", got, want)
	}
}

func TestSortKeyOf(t *testing.T) {
	at := time.Date(2026, 11, 23, 1, 2, 3, 0, time.UTC)
	e := &trail.Event{ID: trail.NewID(at), Action: "doc.read", OccurredAt: at,
		Actor:   trail.Actor{Type: "user", ID: "u1", Name: "Ada"},
		Targets: []trail.Target{{Type: "folder", ID: "f9"}, {Type: "doc", ID: "d1"}}}
	bare := &trail.Event{ID: trail.NewID(at), Action: "doc.read", OccurredAt: at, Actor: trail.Actor{Type: "user", ID: "u1"}}
	for _, tt := range []struct {
		sort      string
		want, old string // of e, of bare
	}{
		{trail.SortOccurredAt, "", ""},
		{trail.SortAction, "doc.read", "doc.read"},
		{trail.SortActor, "u1", "u1"},
		{trail.SortActorName, "Ada", ""},
		{trail.SortTargetType, "folder", ""}, // the first target only
		{trail.SortTargetID, "f9", ""},
	} {
		if got := trail.SortKeyOf(tt.sort, e); got != tt.want {
			t.Errorf("SortKeyOf(%s) = %q, want %q", tt.sort, got, tt.want)
		}
		if got := trail.SortKeyOf(tt.sort, bare); got != tt.old {
			t.Errorf("SortKeyOf(%s) of an event without targets or name = %q, want %q", tt.sort, got, tt.old)
		}
	}
}

// TestCompareNewSorts checks that Compare orders by the sort's key, then
// time, then id, and that a cursor of each sort round-trips.
func TestCompareNewSorts(t *testing.T) {
	at := time.Date(2026, 11, 23, 1, 2, 3, 0, time.UTC)
	mk := func(name, typ, id string, sec int) *trail.Event {
		e := &trail.Event{ID: trail.NewID(at), Action: "a.b", OccurredAt: at.Add(time.Duration(sec) * time.Second),
			Actor: trail.Actor{Type: "user", ID: "u", Name: name}}
		if typ != "" {
			e.Targets = []trail.Target{{Type: typ, ID: id}, {Type: "aaa", ID: "000"}}
		}
		return e
	}
	a, b := mk("Ada", "doc", "d2", 5), mk("Bob", "", "", 1)
	for _, tt := range []struct {
		sort string
		want int // Compare(a, b), ascending
	}{
		{trail.SortActorName, -1}, // Ada < Bob
		{trail.SortTargetType, 1}, // "doc" > "" (no targets)
		{trail.SortTargetID, 1},   // "d2" > ""
		{trail.SortOccurredAt, 1}, // later
	} {
		for _, desc := range []bool{false, true} {
			q := &trail.Query{Sort: tt.sort, Desc: desc}
			want := tt.want
			if desc {
				want = -want
			}
			if got := q.Compare(a, b); got != want {
				t.Errorf("%s desc=%v: Compare = %d, want %d", tt.sort, desc, got, want)
			}
			v := url.Values{"sort": {tt.sort}, "cursor": {trail.CursorAfter(q, a).Encode()}}
			if desc {
				v.Set("order", "desc")
			} else {
				v.Set("order", "asc")
			}
			got, err := trail.ParseQuery(v)
			if err != nil {
				t.Fatalf("%s: %v", tt.sort, err)
			}
			if got.After.Key != trail.SortKeyOf(tt.sort, a) {
				t.Errorf("%s: cursor key %q, want %q", tt.sort, got.After.Key, trail.SortKeyOf(tt.sort, a))
			}
		}
	}
	t.Run("TiesByTimeThenID", func(t *testing.T) {
		c, d := mk("Ada", "doc", "d1", 1), mk("Ada", "doc", "d1", 2)
		q := &trail.Query{Sort: trail.SortActorName}
		if q.Compare(c, d) >= 0 || q.Compare(d, c) <= 0 || q.Compare(c, c) != 0 {
			t.Error("ties are not broken by time")
		}
	})
}
