package trail

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Stream cursor names: each follower of the stream keeps the Pos it has
// handled under its name, in the store's one cursor table (stream_cursors).
const (
	CursorLedger = "ledger" // the ledger's sequencer
	CursorAlerts = "alerts" // the alert evaluator
)

// CursorForwarder names the cursor of forwarder id.
func CursorForwarder(id string) string { return "forwarder:" + id }

// Follower tells the readers of the event stream (the ledger's sequencer,
// the forwarders, the alert evaluator) when to read it again: at once when
// this node's Writer has committed (Notify, from the commit hook), and
// every reader's poll interval for what other nodes commit. Each reader
// reads by Pos after its own cursor, under its own lease; the Follower
// holds no cursor, so a reader that stops loses nothing.
type Follower struct {
	mu   sync.Mutex
	subs map[*Wake]struct{}
	// list is subs as a slice, swapped whole, so that Notify, called on
	// the commit path, never waits for mu.
	list atomic.Pointer[[]*Wake]
}

// NewFollower returns a Follower with no readers.
func NewFollower() *Follower {
	return &Follower{subs: map[*Wake]struct{}{}}
}

// Notify wakes every reader: new events were stored. It never blocks; pass
// it to the Writer's commit hook. A nil Follower ignores it.
func (f *Follower) Notify() {
	if f == nil {
		return
	}
	if l := f.list.Load(); l != nil {
		for _, w := range *l {
			w.Notify()
		}
	}
}

// Subscribe registers a reader that polls every poll when no commit wakes
// it. Close the Wake when the reader is gone. A nil Follower returns a Wake
// that only polls, for readers run without a Writer on this node.
func (f *Follower) Subscribe(poll time.Duration) *Wake {
	w := &Wake{f: f, c: make(chan struct{}, 1), poll: poll}
	if f != nil {
		f.mu.Lock()
		f.subs[w] = struct{}{}
		f.publish()
		f.mu.Unlock()
	}
	return w
}

func (f *Follower) publish() {
	l := make([]*Wake, 0, len(f.subs))
	for w := range f.subs {
		l = append(l, w)
	}
	f.list.Store(&l)
}

// Wake is one reader's subscription to a Follower.
type Wake struct {
	f    *Follower
	c    chan struct{}
	poll time.Duration
}

// Notify wakes this reader alone. It never blocks; a wake-up that comes
// while the reader is busy is kept, so the reader reads once more.
func (w *Wake) Notify() {
	select {
	case w.c <- struct{}{}:
	default:
	}
}

// Wait returns nil after a wake-up or after d (the poll interval when d is
// zero or longer), or ctx's error when ctx ends first.
func (w *Wake) Wait(ctx context.Context, d time.Duration) error {
	if d <= 0 || d > w.poll {
		d = w.poll
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-w.c:
	case <-t.C:
	}
	return nil
}

// Close unsubscribes the reader.
func (w *Wake) Close() {
	if w.f == nil {
		return
	}
	w.f.mu.Lock()
	delete(w.f.subs, w)
	w.f.publish()
	w.f.mu.Unlock()
}

// Follow runs step until ctx ends or step fails, and returns step's error
// (nil when ctx ended). Step reads the stream after its reader's cursor,
// handles what it read and stores the new cursor; it reports more when it
// read a full batch, so that the backlog is read on at once. Otherwise the
// reader is caught up and Follow waits for the next commit or poll.
func (w *Wake) Follow(ctx context.Context, step func(ctx context.Context) (more bool, err error)) error {
	for {
		more, err := step(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		if more {
			continue
		}
		if w.Wait(ctx, 0) != nil {
			return nil
		}
	}
}
