package trail

import (
	"context"
	"sync"
	"time"
)

// BatchAppender is the part of a store that the Writer drives.
type BatchAppender interface {
	AppendBatches(ctx context.Context, batches []*Batch) error
}

// CommitStats describes one group commit, for metrics.
type CommitStats struct {
	Batches  int
	Events   int
	Duration time.Duration
	Err      error
}

// Writer is a store's single writer: it groups the batches of concurrent
// requests into one transaction and one fsync, then answers every request
// of the group. That is where ingest throughput comes from.
type Writer struct {
	store     BatchAppender
	maxEvents int
	onCommit  func(CommitStats)

	mu     sync.RWMutex // guards closed against sends on a closed reqs
	closed bool
	reqs   chan writeReq
	done   chan struct{}
}

type writeReq struct {
	batch *Batch
	errc  chan error
}

// CommitTimeout bounds one group commit.
const CommitTimeout = 30 * time.Second

// NewWriter starts a writer over s that puts at most maxEvents events in one
// transaction (a single batch larger than that still commits alone).
// onCommit, if not nil, is called after every commit.
func NewWriter(s BatchAppender, maxEvents int, onCommit func(CommitStats)) *Writer {
	w := &Writer{
		store:     s,
		maxEvents: maxEvents,
		onCommit:  onCommit,
		reqs:      make(chan writeReq, 1024),
		done:      make(chan struct{}),
	}
	go w.loop()
	return w
}

// Append stores b durably, together with whatever other batches are
// waiting, and returns the commit's error. Once b is handed to the writer it
// waits for the commit even if ctx ends, so the answer is always the truth.
func (w *Writer) Append(ctx context.Context, b *Batch) error {
	errc := make(chan error, 1)
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return Errorf(EUNAVAILABLE, "server is shutting down")
	}
	select {
	case w.reqs <- writeReq{b, errc}:
		w.mu.RUnlock()
	case <-ctx.Done():
		w.mu.RUnlock()
		return ctx.Err()
	}
	return <-errc
}

// Close stops accepting batches, commits the ones already handed over and
// waits for the last commit.
func (w *Writer) Close() error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.reqs)
	}
	w.mu.Unlock()
	<-w.done
	return nil
}

func (w *Writer) loop() {
	defer close(w.done)
	for first := range w.reqs {
		group := []writeReq{first}
		n := len(first.batch.Events)
	fill:
		for n < w.maxEvents {
			select {
			case r, ok := <-w.reqs:
				if !ok {
					break fill
				}
				group = append(group, r)
				n += len(r.batch.Events)
			default:
				break fill
			}
		}
		w.commit(group, n)
	}
}

func (w *Writer) commit(group []writeReq, n int) {
	batches := make([]*Batch, len(group))
	for i, r := range group {
		batches[i] = r.batch
	}
	ctx, cancel := context.WithTimeout(context.Background(), CommitTimeout)
	start := time.Now()
	err := w.store.AppendBatches(ctx, batches)
	cancel()
	if w.onCommit != nil {
		w.onCommit(CommitStats{Batches: len(group), Events: n, Duration: time.Since(start), Err: err})
	}
	for _, r := range group {
		r.errc <- err
	}
}
