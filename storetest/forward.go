package storetest

import (
	"testing"
	"time"

	"github.com/trailhq/trail"
)

func newForwarder(tenant, name string, sec int) *trail.Forwarder {
	at := base.Add(time.Duration(sec) * time.Second)
	return &trail.Forwarder{
		ID: trail.NewID(at), Tenant: tenant, Name: name, Kind: trail.ForwarderWebhook,
		URI: "https://hooks.example.com/" + name, Token: "token-" + name, Secret: "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0",
		Method: "POST", Timeout: trail.Duration(5 * time.Second),
		Filter:    trail.ForwarderFilter{Actions: []string{"user.*"}},
		Batch:     trail.BatchConfig{Size: 1},
		Retry:     trail.RetryConfig{MaxAttempts: 3, MinBackoff: trail.Duration(time.Second), MaxBackoff: trail.Duration(time.Minute)},
		Start:     trail.StartNow,
		ManagedBy: trail.ManagedByAPI, CreatedAt: at, UpdatedAt: at,
	}
}

// withStatus returns f as a read returns it: with its stored status.
func withStatus(f *trail.Forwarder, st trail.ForwarderStatus) *trail.Forwarder {
	c := *f
	c.Status = &st
	return &c
}

func testForwarders(t *testing.T, open func(t *testing.T) trail.Store) {
	s := open(t)
	a, b, c := newForwarder("acme", "siem", 0), newForwarder("globex", "siem", 1), newForwarder("", "archive", 2)
	for i, f := range []*trail.Forwarder{a, b, c} {
		if err := s.CreateForwarder(ctx(t), f, int64(10*i)); err != nil {
			t.Fatalf("CreateForwarder %s/%s: %v", f.Tenant, f.Name, err)
		}
	}
	dup := newForwarder("acme", "siem", 3)
	wantCode(t, s.CreateForwarder(ctx(t), dup, 0), trail.ECONFLICT)

	got, err := s.Forwarder(ctx(t), "globex", "siem")
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "globex/siem", got, withStatus(b, trail.ForwarderStatus{Cursor: 10, State: trail.ForwarderActive}))
	_, err = s.Forwarder(ctx(t), "acme", "archive")
	wantCode(t, err, trail.ENOTFOUND)

	acme, err := s.Forwarders(ctx(t), trail.Scope{Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "acme forwarders", acme, []*trail.Forwarder{withStatus(a, trail.ForwarderStatus{State: trail.ForwarderActive})})
	all, _ := s.Forwarders(ctx(t), trail.Scope{All: true})
	if len(all) != 3 || all[0].Name != "archive" || all[1].Tenant != "acme" || all[2].Tenant != "globex" {
		t.Fatalf("all forwarders = %s, want by tenant then name", show(all))
	}

	a.URI, a.Token, a.UpdatedAt = "https://other.example.com/x", "", base.Add(time.Hour)
	a.Filter.Tenants = []string{"acme"}
	if err := s.UpdateForwarder(ctx(t), a); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Forwarder(ctx(t), "acme", "siem")
	wantEqual(t, "updated acme/siem", got, withStatus(a, trail.ForwarderStatus{State: trail.ForwarderActive}))
	wantCode(t, s.UpdateForwarder(ctx(t), dup), trail.ENOTFOUND)

	if err := s.DeleteForwarder(ctx(t), a.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.Forwarder(ctx(t), "acme", "siem")
	wantCode(t, err, trail.ENOTFOUND)
	wantCode(t, s.DeleteForwarder(ctx(t), a.ID), trail.ENOTFOUND)
}

func testForwarderStatus(t *testing.T, open func(t *testing.T) trail.Store) {
	s := open(t)
	f := newForwarder("acme", "siem", 0)
	if err := s.CreateForwarder(ctx(t), f, 5); err != nil {
		t.Fatal(err)
	}
	st := trail.ForwarderStatus{Cursor: 40, Pending: 47, State: trail.ForwarderRetrying, Attempts: 2,
		LastSuccessAt: base.Add(time.Minute), LastError: "POST https://hooks: 503", LastErrorAt: base.Add(2 * time.Minute)}
	if err := s.SaveForwarderStatus(ctx(t), f.ID, &st); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Forwarder(ctx(t), "acme", "siem")
	wantEqual(t, "status", *got.Status, st)

	// A node that lost its lease saves older progress: the cursor stays.
	stale := trail.ForwarderStatus{Cursor: 30, State: trail.ForwarderActive, LastSuccessAt: base}
	if err := s.SaveForwarderStatus(ctx(t), f.ID, &stale); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Forwarder(ctx(t), "acme", "siem")
	if got.Status.Cursor != 40 || got.Status.State != trail.ForwarderActive {
		t.Errorf("after a stale save: %+v, want cursor 40 kept and the rest replaced", got.Status)
	}
	wantCode(t, s.SaveForwarderStatus(ctx(t), "no-such-id", &st), trail.ENOTFOUND)
}

func deadLetter(id string, pos int64, attempts int) *trail.DeadLetter {
	return &trail.DeadLetter{EventID: id, Pos: pos, Tenant: "acme", Action: "user.created", Attempts: attempts,
		Error: "POST https://hooks: 400 Bad Request", FailedAt: base.Add(time.Duration(pos) * time.Second)}
}

func testDeadLetters(t *testing.T, open func(t *testing.T) trail.Store) {
	s := open(t)
	f, g := newForwarder("acme", "siem", 0), newForwarder("acme", "other", 1)
	for _, x := range []*trail.Forwarder{f, g} {
		if err := s.CreateForwarder(ctx(t), x, 0); err != nil {
			t.Fatal(err)
		}
	}
	dls := []*trail.DeadLetter{deadLetter("e3", 3, 1), deadLetter("e1", 1, 3), deadLetter("e2", 2, 3)}
	if err := s.AddDeadLetters(ctx(t), f.ID, dls); err != nil {
		t.Fatal(err)
	}
	if err := s.AddDeadLetters(ctx(t), g.ID, dls[:1]); err != nil {
		t.Fatal(err)
	}
	list := func(q trail.DeadLetterQuery) []*trail.DeadLetter {
		t.Helper()
		got, err := s.DeadLetters(ctx(t), f.ID, q)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	wantEqual(t, "dead letters by position", list(trail.DeadLetterQuery{}), []*trail.DeadLetter{dls[1], dls[2], dls[0]})
	wantEqual(t, "after 1, limit 1", list(trail.DeadLetterQuery{After: 1, Limit: 1}), []*trail.DeadLetter{dls[2]})

	n, err := s.ReplayDeadLetters(ctx(t), f.ID, []string{"e2", "e9"})
	if err != nil || n != 1 {
		t.Fatalf("ReplayDeadLetters(e2, e9) = %d, %v; want 1", n, err)
	}
	replay := *dls[2]
	replay.Replay = true
	wantEqual(t, "replay only", list(trail.DeadLetterQuery{ReplayOnly: true}), []*trail.DeadLetter{&replay})

	// Failing again: attempts add up and the replay request is cleared.
	again := deadLetter("e2", 2, 2)
	again.Error, again.FailedAt = "POST https://hooks: 500", base.Add(time.Hour)
	if err := s.AddDeadLetters(ctx(t), f.ID, []*trail.DeadLetter{again}); err != nil {
		t.Fatal(err)
	}
	want := *again
	want.Attempts = 5
	wantEqual(t, "after failing again", list(trail.DeadLetterQuery{After: 1, Limit: 1}), []*trail.DeadLetter{&want})

	if n, _ := s.ReplayDeadLetters(ctx(t), f.ID, nil); n != 3 {
		t.Errorf("ReplayDeadLetters(all) = %d, want 3", n)
	}
	if err := s.DeleteDeadLetters(ctx(t), f.ID, []string{"e1", "e3"}); err != nil {
		t.Fatal(err)
	}
	if got := list(trail.DeadLetterQuery{}); len(got) != 1 || got[0].EventID != "e2" {
		t.Errorf("after deleting e1 and e3: %s", show(got))
	}
	if err := s.DeleteForwarder(ctx(t), f.ID); err != nil {
		t.Fatal(err)
	}
	if got := list(trail.DeadLetterQuery{}); len(got) != 0 {
		t.Errorf("dead letters of a deleted forwarder: %s", show(got))
	}
	other, _ := s.DeadLetters(ctx(t), g.ID, trail.DeadLetterQuery{})
	if len(other) != 1 || other[0].Replay {
		t.Errorf("another forwarder's dead letters were touched: %s", show(other))
	}
}

func testStreamHead(t *testing.T, open func(t *testing.T) trail.Store) {
	st := open(t)
	s := st
	head, err := s.StreamHead(ctx(t))
	if err != nil || head != 0 {
		t.Fatalf("StreamHead of an empty store = %d, %v; want 0", head, err)
	}
	mustAppend(t, st, batch(ev("acme", "a.one", "u1", 0), ev("globex", "a.two", "u1", 1)), batch(ev("", "a.three", "u1", 2)))
	evs, _ := st.StreamEvents(ctx(t), 0, 10)
	head, err = s.StreamHead(ctx(t))
	if err != nil || head != evs[len(evs)-1].Pos {
		t.Errorf("StreamHead = %d, %v; want the last Pos %d", head, err, evs[len(evs)-1].Pos)
	}
}
