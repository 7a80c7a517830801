package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/trailhq/trail"
)

func testScope(t *testing.T, open func(t *testing.T) trail.Store) {
	s := open(t)
	ea, eb := ev("a", "user.login", "u1", 0), ev("b", "secret.read", "u2", 1)
	sys := ev("", "system.started", "s", 2)
	appendEach(t, s, ea, eb, sys)
	a, b, all := trail.Scope{Tenant: "a"}, trail.Scope{Tenant: "b"}, trail.Scope{All: true}
	t.Run("Event", func(t *testing.T) {
		wantEqual(t, "a reads its event", mustGet(t, s, a, ea.ID), ea)
		wantEqual(t, "a reads a system event", mustGet(t, s, a, sys.ID), sys)
		wantEqual(t, "all reads b's event", mustGet(t, s, all, eb.ID), eb)
		_, err := s.Event(ctx(t), a, eb.ID)
		wantCode(t, err, trail.ENOTFOUND)
		_, err = s.Event(ctx(t), trail.Scope{}, ea.ID)
		wantCode(t, err, trail.ENOTFOUND)
	})
	t.Run("Events", func(t *testing.T) {
		for _, tt := range []struct {
			scope trail.Scope
			want  []*trail.Event
		}{{a, []*trail.Event{ea, sys}}, {b, []*trail.Event{eb, sys}}, {all, []*trail.Event{ea, eb, sys}}, {trail.Scope{}, []*trail.Event{sys}}} {
			got := listAll(t, s, trail.Query{Scope: tt.scope, Limit: 1})
			wantEqual(t, fmt.Sprintf("events of scope %+v", tt.scope), ids(got), ids(tt.want))
		}
	})
	t.Run("Actions", func(t *testing.T) {
		got, err := s.Actions(ctx(t), a)
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, "actions of a", got, []string{"system.started", "user.login"})
	})
}

func testPaginationWhileAppending(t *testing.T, open func(t *testing.T) trail.Store) {
	for _, q := range []trail.Query{
		{Desc: true},
		{},
		{Sort: trail.SortAction},
		{Sort: trail.SortActor, Desc: true},
		{Actions: []string{"user.*"}, Desc: true},
	} {
		t.Run(fmt.Sprintf("%s/desc=%v/%v", q.SortKey(), q.Desc, q.Actions), func(t *testing.T) {
			s := open(t)
			before := dataset(t, s)
			q.Scope, q.Limit = trail.Scope{Tenant: "a"}, 6
			pageWhileAppending(t, s, q, expected(&q, before))
		})
	}
}

// pageWhileAppending pages through q while another goroutine and the loop
// itself append events around the cursor, then checks that every event of
// want came exactly once, in order, and nothing came twice.
func pageWhileAppending(t *testing.T, s trail.Store, q trail.Query, want []*trail.Event) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { appendUntil(t, s, stop) })
	defer func() { close(stop); wg.Wait() }()
	var got []*trail.Event
	for i := 0; ; i++ {
		page, err := s.Events(ctx(t), &q)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page.Events...)
		if page.Next == nil {
			break
		}
		q.After = page.Next
		// Land events right at the cursor, before it and after it.
		last := page.Events[len(page.Events)-1]
		at := int(last.OccurredAt.Sub(base).Seconds())
		appendEach(t, s, ev("a", last.Action, last.Actor.ID, at), ev("a", "user.zzz", "u0", at-i), ev("", "user.aaa", "u9", at+i))
	}
	seen := map[string]bool{}
	for i, e := range got {
		if seen[e.ID] {
			t.Fatalf("event %s came twice", e.ID)
		}
		seen[e.ID] = true
		if i > 0 && q.Compare(got[i-1], e) >= 0 {
			t.Fatalf("events %d and %d out of order", i-1, i)
		}
	}
	for _, e := range want {
		if !seen[e.ID] {
			t.Fatalf("event %s that existed when paging started was skipped", e.ID)
		}
	}
}

// appendUntil appends events of tenant a until stop is closed, at most 100.
func appendUntil(t *testing.T, s trail.Store, stop <-chan struct{}) {
	for i := range 100 {
		select {
		case <-stop:
			return
		default:
		}
		e := ev("a", []string{"user.login", "user.created"}[i%2], fmt.Sprint("u", i%4), i%30)
		if err := s.AppendBatches(ctx(t), []*trail.Batch{batch(e)}); err != nil {
			t.Errorf("concurrent append: %v", err)
			return
		}
	}
}

func testStreamAndLog(t *testing.T, open func(t *testing.T) trail.Store) {
	s := open(t)
	all := dataset(t, s)
	t.Run("StreamEvents", func(t *testing.T) {
		wantEqual(t, "stream", ids(readStream(t, s, 13)), ids(all))
		got, err := s.StreamEvents(ctx(t), 80, 5)
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, "StreamEvents(80, 5)", ids(got), ids(all[80:85]))
		got, err = s.StreamEvents(ctx(t), int64(len(all)), 5)
		if err != nil || len(got) != 0 {
			t.Fatalf("StreamEvents past the end = %d events, %v; want none", len(got), err)
		}
	})
	t.Run("LogEvents", func(t *testing.T) {
		var log []*trail.Event
		for _, e := range all {
			if e.Tenant == "b" {
				log = append(log, e)
			}
		}
		got, err := s.LogEvents(ctx(t), "b", 3, 4)
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, "LogEvents(b, 3, 4)", ids(got), ids(log[3:7]))
		got, err = s.LogEvents(ctx(t), "b", 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, "LogEvents(b, 0, 1000)", got, log)
	})
}

func testActions(t *testing.T, open func(t *testing.T) trail.Store) {
	s := open(t)
	got, err := s.Actions(ctx(t), trail.Scope{All: true})
	if err != nil || len(got) != 0 {
		t.Fatalf("Actions of an empty store = %v, %v; want none", got, err)
	}
	all := dataset(t, s)
	for _, scope := range []trail.Scope{{Tenant: "a"}, {}, {All: true}, {Tenant: "nobody"}} {
		want := []string{}
		for _, e := range all {
			if scope.Visible(e.Tenant) && !slices.Contains(want, e.Action) {
				want = append(want, e.Action)
			}
		}
		slices.Sort(want)
		got, err := s.Actions(ctx(t), scope)
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, fmt.Sprintf("Actions(%+v)", scope), got, want)
	}
}

func testPing(t *testing.T, open func(t *testing.T) trail.Store) {
	if err := open(t).Ping(ctx(t)); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}
