package storetest

import (
	"testing"
	"time"

	"github.com/trailhq/trail"
)

// idemBatch makes a batch of events under idempotency key key of
// namespace ns, remembering a response that names the first event.
func idemBatch(ns, key string, created time.Time, events ...*trail.Event) *trail.Batch {
	return &trail.Batch{Events: events, Idempotency: &trail.Idempotency{
		Namespace: ns, Key: key,
		Response: trail.IdempotentResponse{
			RequestHash: "sha256:" + events[0].ID, Status: 202,
			Body: []byte(`{"ids":["` + events[0].ID + `"]}`), CreatedAt: created,
		},
	}}
}

// wantStored fails unless exactly the events in stored exist and none of
// the events in missing do.
func wantStored(t *testing.T, s trail.Store, stored, missing []*trail.Event) {
	t.Helper()
	for _, e := range stored {
		mustGet(t, s, trail.Scope{All: true}, e.ID)
	}
	for _, e := range missing {
		_, err := s.Event(ctx(t), trail.Scope{All: true}, e.ID)
		if trail.ErrorCode(err) != trail.ENOTFOUND {
			t.Fatalf("event %s of a replayed batch: Event err = %v, want not found", e.ID, err)
		}
	}
}

func testIdempotency(t *testing.T, open func(t *testing.T) trail.Store) {
	created := base.Add(time.Hour)
	t.Run("AcrossCalls", func(t *testing.T) {
		s := open(t)
		orig := idemBatch("k1", "key-1", created, ev("a", "user.login", "u", 0), ev("a", "user.login", "u", 1))
		mustAppend(t, s, orig)
		if orig.Replayed != nil {
			t.Fatalf("first batch Replayed = %+v, want nil", orig.Replayed)
		}
		again := idemBatch("k1", "key-1", created.Add(time.Minute), ev("a", "user.login", "u", 2))
		mustAppend(t, s, again)
		wantEqual(t, "Replayed", again.Replayed, &orig.Idempotency.Response)
		wantStored(t, s, orig.Events, again.Events)
		if again.Events[0].Pos != 0 {
			t.Fatalf("replayed event got Pos %d, want 0 (not stored)", again.Events[0].Pos)
		}
	})
	t.Run("WithinOneCall", func(t *testing.T) {
		s := open(t)
		b1 := idemBatch("k1", "key-1", created, ev("a", "user.login", "u", 0))
		other := idemBatch("k2", "key-1", created, ev("a", "user.login", "u", 1)) // another namespace
		b2 := idemBatch("k1", "key-1", created.Add(time.Second), ev("a", "user.login", "u", 2))
		mustAppend(t, s, b1, other, b2)
		if b1.Replayed != nil || other.Replayed != nil {
			t.Fatalf("first use of a key was replayed: %+v, %+v", b1.Replayed, other.Replayed)
		}
		wantEqual(t, "Replayed", b2.Replayed, &b1.Idempotency.Response)
		wantStored(t, s, append(b1.Events, other.Events...), b2.Events)
		checkDense(t, readStream(t, s, 10))
	})
}

func testPruneIdempotency(t *testing.T, open func(t *testing.T) trail.Store) {
	s := open(t)
	old := idemBatch("k1", "old", base, ev("a", "user.login", "u", 0))
	recent := idemBatch("k1", "recent", base.Add(2*time.Hour), ev("a", "user.login", "u", 1))
	mustAppend(t, s, old, recent)
	n, err := s.PruneIdempotency(ctx(t), base.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("PruneIdempotency removed %d keys, want 1", n)
	}
	oldAgain := idemBatch("k1", "old", base.Add(3*time.Hour), ev("a", "user.login", "u", 2))
	recentAgain := idemBatch("k1", "recent", base.Add(3*time.Hour), ev("a", "user.login", "u", 3))
	mustAppend(t, s, oldAgain, recentAgain)
	if oldAgain.Replayed != nil {
		t.Fatalf("pruned key was replayed: %+v", oldAgain.Replayed)
	}
	wantEqual(t, "Replayed of the kept key", recentAgain.Replayed, &recent.Idempotency.Response)
	wantStored(t, s, oldAgain.Events, recentAgain.Events)
}
