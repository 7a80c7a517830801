package trail_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/testenv"
)

// A commit wakes every subscribed reader at once, long before its poll.
func TestFollowerNotifyWakesReaders(t *testing.T) {
	f := trail.NewFollower()
	a, b := f.Subscribe(time.Hour), f.Subscribe(time.Hour)
	defer a.Close()
	defer b.Close()
	f.Notify()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, w := range []*trail.Wake{a, b} {
		if err := w.Wait(ctx, 0); err != nil {
			t.Fatalf("not woken by Notify: %v", err)
		}
	}
}

// A closed reader is no longer woken; a nil Follower's reader only polls.
func TestFollowerCloseAndPoll(t *testing.T) {
	f := trail.NewFollower()
	w := f.Subscribe(20 * time.Millisecond)
	w.Close()
	f.Notify()
	start := time.Now()
	if err := w.Wait(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Fatalf("a closed reader was woken after %v, before its poll", d)
	}
	var nilF *trail.Follower
	nilF.Notify()
	p := nilF.Subscribe(time.Millisecond)
	defer p.Close()
	if err := p.Wait(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.Subscribe(time.Hour).Wait(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait after ctx ended = %v, want context.Canceled", err)
	}
}

// Follow reads on at once while step reports a backlog, waits for a
// commit when caught up, and returns step's error.
func TestFollowerFollow(t *testing.T) {
	f := trail.NewFollower()
	w := f.Subscribe(time.Hour)
	defer w.Close()
	var steps atomic.Int32
	boom := errors.New("boom")
	done := make(chan error, 1)
	go func() {
		done <- w.Follow(context.Background(), 10, 0, func(context.Context) (int, error) {
			switch steps.Add(1) {
			case 1, 2:
				return 10, nil // a full batch: backlog
			case 3:
				return 3, nil // caught up: wait for a commit
			default:
				return 0, boom
			}
		})
	}()
	testenv.Eventually(t, 10*time.Second, "steps.Load() == 3", func() bool { return steps.Load() == 3 })
	f.Notify()
	select {
	case err := <-done:
		if !errors.Is(err, boom) || steps.Load() != 4 {
			t.Fatalf("Follow = %v after %d steps, want boom after 4", err, steps.Load())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Follow did not step again after Notify")
	}
}

// Follow returns nil when its context ends while it waits.
func TestFollowerFollowStops(t *testing.T) {
	w := trail.NewFollower().Subscribe(time.Hour)
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- w.Follow(ctx, 10, time.Hour, func(context.Context) (int, error) { return 1, nil })
	}()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Follow = %v after ctx ended, want nil", err)
	}
}

// After a round that handled events, a commit waits for calm; an idle
// reader answers a commit at once, and Wake.Notify is never held back.
func TestFollowerCalm(t *testing.T) {
	f := trail.NewFollower()
	w := f.Subscribe(time.Hour)
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var steps atomic.Int32
	go w.Follow(ctx, 10, time.Hour, func(context.Context) (int, error) {
		if steps.Add(1) == 1 {
			return 0, nil // idle
		}
		return 1, nil // handled an event
	})
	testenv.Eventually(t, 10*time.Second, "steps.Load() == 1", func() bool { return steps.Load() == 1 })
	f.Notify() // idle: at once
	testenv.Eventually(t, 10*time.Second, "steps.Load() == 2", func() bool { return steps.Load() == 2 })
	f.Notify()                        // busy: held back for an hour
	time.Sleep(50 * time.Millisecond) // a bound on what must not happen, not synchronisation
	if n := steps.Load(); n != 2 {
		t.Fatalf("a commit right after a busy round ran round %d at once, want it held back", n)
	}
	w.Notify() // the reader's own wake-up: at once
	testenv.Eventually(t, 10*time.Second, "steps.Load() == 3", func() bool { return steps.Load() == 3 })
}
