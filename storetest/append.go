package storetest

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/trailhq/trail"
)

// fullEvent sets every field an event can have, so a round trip that drops
// or changes any of them is caught.
func fullEvent(tenant string, sec int) *trail.Event {
	e := ev(tenant, "document.shared", "u_42", sec,
		trail.Target{Type: "document", ID: "d_1", Name: "Q3 plan", Metadata: json.RawMessage(`{"folder":"finance"}`)},
		trail.Target{Type: "user", ID: "u_7"})
	e.OccurredAt = e.OccurredAt.Add(123456 * time.Microsecond)
	e.Actor.Metadata = json.RawMessage(`{"role":"admin","mfa":true}`)
	e.Context = trail.Context{IP: "2001:db8::1", UserAgent: "Mozilla/5.0 (X11)", Location: "Zürich, CH"}
	e.Metadata = json.RawMessage(`{"permission":"edit","notify":["a@example.com"],"n":1.5,"s":"\u00e9\"q"}`)
	e.Version = 3
	e.TraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	return e
}

func testAppendReadBack(t *testing.T, open func(t *testing.T) trail.Store) {
	s := open(t)
	e := fullEvent("acme", 0)
	sys := trail.NewSystemEvent("", "api_key.created", trail.Actor{Type: trail.ActorSystem}, trail.Context{}, base)
	mustAppend(t, s, batch(e, sys))
	scope := trail.Scope{All: true}
	t.Run("Event", func(t *testing.T) {
		wantEqual(t, "Event", mustGet(t, s, scope, e.ID), e)
		wantEqual(t, "system Event", mustGet(t, s, scope, sys.ID), sys)
	})
	t.Run("Events", func(t *testing.T) {
		page, err := s.Events(ctx(t), &trail.Query{Scope: scope, Desc: true})
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, "Events", page.Events, []*trail.Event{e, sys})
	})
	t.Run("StreamEvents", func(t *testing.T) {
		got, err := s.StreamEvents(ctx(t), 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, "StreamEvents", got, []*trail.Event{e, sys})
	})
	t.Run("LogEvents", func(t *testing.T) {
		got, err := s.LogEvents(ctx(t), "acme", 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, "LogEvents", got, []*trail.Event{e})
	})
	t.Run("JSON", func(t *testing.T) {
		got, _ := json.Marshal(mustGet(t, s, scope, e.ID))
		want, _ := json.Marshal(e)
		if string(got) != string(want) {
			t.Fatalf("JSON of read event:\ngot  %s\nwant %s", got, want)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := s.Event(ctx(t), scope, trail.NewID(base))
		wantCode(t, err, trail.ENOTFOUND)
	})
}

func testPositions(t *testing.T, open func(t *testing.T) trail.Store) {
	s := open(t)
	var all []*trail.Event
	for i := range 5 {
		var batches []*trail.Batch
		for _, tenant := range []string{"a", "b", "", "a"} {
			e := ev(tenant, "user.login", "u", i)
			all = append(all, e)
			batches = append(batches, batch(e))
		}
		mustAppend(t, s, batches...)
	}
	next := map[string]int64{}
	for i, e := range all {
		if want := int64(i + 1); e.Pos != want {
			t.Fatalf("event %d: Pos = %d, want %d (dense from 1 in commit order)", i, e.Pos, want)
		}
		if want := next[e.Tenant]; e.Seq != want {
			t.Fatalf("event %d of tenant %q: Seq = %d, want %d (dense from 0 per tenant)", i, e.Tenant, e.Seq, want)
		}
		next[e.Tenant]++
		if got := mustGet(t, s, trail.Scope{All: true}, e.ID); got.Seq != e.Seq || got.Pos != e.Pos {
			t.Fatalf("stored event %d: Seq, Pos = %d, %d; want %d, %d", i, got.Seq, got.Pos, e.Seq, e.Pos)
		}
	}
}

func testConcurrentAppends(t *testing.T, open func(t *testing.T) trail.Store) {
	s := open(t)
	const workers, calls, perBatch = 4, 15, 3
	var wg sync.WaitGroup
	errs := make(chan error, workers*calls)
	for w := range workers {
		wg.Go(func() {
			for c := range calls {
				var batches []*trail.Batch
				for _, tenant := range []string{"a", "b"} {
					var evs []*trail.Event
					for i := range perBatch {
						evs = append(evs, ev(tenant, "user.login", fmt.Sprint("u", w), c*perBatch+i))
					}
					batches = append(batches, batch(evs...))
				}
				errs <- s.AppendBatches(ctx(t), batches)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("AppendBatches: %v", err)
		}
	}
	stream := readStream(t, s, 7)
	if got, want := len(stream), workers*calls*2*perBatch; got != want {
		t.Fatalf("stream has %d events, want %d", got, want)
	}
	checkDense(t, stream)
}

// checkDense checks that stream, read in Pos order, numbers Pos densely
// from 1 and each tenant's Seq densely from 0 in the same order: commit
// order is the order of both numbers.
func checkDense(t *testing.T, stream []*trail.Event) {
	t.Helper()
	next := map[string]int64{}
	for i, e := range stream {
		if e.Pos != int64(i+1) {
			t.Fatalf("stream[%d].Pos = %d, want %d", i, e.Pos, i+1)
		}
		if e.Seq != next[e.Tenant] {
			t.Fatalf("stream[%d] (tenant %q).Seq = %d, want %d", i, e.Tenant, e.Seq, next[e.Tenant])
		}
		next[e.Tenant]++
	}
}

// readStream reads the whole stream in steps of step events.
func readStream(t *testing.T, s trail.Store, step int) []*trail.Event {
	t.Helper()
	var all []*trail.Event
	var after int64
	for {
		evs, err := s.StreamEvents(ctx(t), after, step)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) > step {
			t.Fatalf("StreamEvents returned %d events, limit %d", len(evs), step)
		}
		all = append(all, evs...)
		if len(evs) < step {
			return all
		}
		after = evs[len(evs)-1].Pos
	}
}

func testAllOrNothing(t *testing.T, open func(t *testing.T) trail.Store) {
	s := open(t)
	first := ev("a", "user.login", "u1", 0)
	mustAppend(t, s, batch(first))
	good := ev("a", "user.login", "u2", 1)
	dupe := ev("b", "user.login", "u3", 2)
	dupe.ID = first.ID
	idem := &trail.Idempotency{Namespace: "k1", Key: "retry-1", Response: trail.IdempotentResponse{Status: 202}}
	err := s.AppendBatches(ctx(t), []*trail.Batch{{Events: []*trail.Event{good}, Idempotency: idem}, batch(ev("b", "x.y", "u", 3), dupe)})
	if err == nil {
		t.Fatal("AppendBatches with a duplicate event id succeeded")
	}
	if _, err := s.Event(ctx(t), trail.Scope{All: true}, good.ID); trail.ErrorCode(err) != trail.ENOTFOUND {
		t.Fatalf("event of a failed call: Event err = %v, want not found", err)
	}
	// The failed call used no numbers and stored no idempotency key.
	retry := ev("a", "user.login", "u2", 1)
	if err := s.AppendBatches(ctx(t), []*trail.Batch{{Events: []*trail.Event{retry}, Idempotency: idem}}); err != nil {
		t.Fatal(err)
	}
	if retry.Pos != 2 || retry.Seq != 1 {
		t.Fatalf("after a failed call: Pos, Seq = %d, %d, want 2, 1", retry.Pos, retry.Seq)
	}
	checkDense(t, readStream(t, s, 10))
}
