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
			w.commit()
		}
	}
}

// Subscribe registers a reader that polls every poll when no commit wakes
// it. Close the Wake when the reader is gone. A nil Follower returns a Wake
// that only polls, for readers run without a Writer on this node.
func (f *Follower) Subscribe(poll time.Duration) *Wake {
	w := &Wake{f: f, c: make(chan struct{}, 1), now: make(chan struct{}, 1), poll: poll}
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
	c    chan struct{} // commits (Follower.Notify)
	now  chan struct{} // this reader's own Notify
	poll time.Duration
}

// Notify wakes this reader alone, at once. It never blocks; a wake-up that
// comes while the reader is busy is kept, so the reader reads once more.
func (w *Wake) Notify() { signal(w.now) }

// commit is a commit's wake-up, which Follow may hold back (see calm).
func (w *Wake) commit() { signal(w.c) }

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
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
	case <-w.now:
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
// (nil when ctx ended). Step reads up to batch events of the stream after
// its reader's cursor, handles them, stores the new cursor and returns how
// many it handled. After a full batch Follow steps again at once (a
// backlog); otherwise it waits for the next commit, Notify or poll.
//
// calm keeps a busy stream from costing a round per commit: after a round
// that handled events, a commit's wake-up waits until calm has passed since
// that round ended, so under steady ingest the reader runs every calm, as
// a poll of that interval would, while an idle reader still answers a
// commit at once. Wake.Notify is never held back.
func (w *Wake) Follow(ctx context.Context, batch int, calm time.Duration, step func(ctx context.Context) (int, error)) error {
	var worked time.Time // when the last round that handled events ended
	for {
		n, err := step(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		if n >= batch {
			continue
		}
		if n > 0 {
			worked = time.Now()
		}
		if w.waitRound(ctx, worked, calm) != nil {
			return nil
		}
	}
}

// waitRound waits for the next round: a commit (held back until calm has
// passed since worked), a Notify or the poll interval.
func (w *Wake) waitRound(ctx context.Context, worked time.Time, calm time.Duration) error {
	t := time.NewTimer(w.poll)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-w.now:
		return nil
	case <-t.C:
		return nil
	case <-w.c:
	}
	rest := calm - time.Since(worked)
	if worked.IsZero() || rest <= 0 {
		return nil
	}
	t.Reset(rest)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-w.now:
	case <-t.C:
	}
	return nil
}
