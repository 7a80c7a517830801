package trail_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/testenv"
)

// appendFunc adapts a function to trail.BatchAppender; the stores' own
// tests drive the Writer against real databases.
type appendFunc func(ctx context.Context, batches []*trail.Batch) error

func (f appendFunc) AppendBatches(ctx context.Context, b []*trail.Batch) error { return f(ctx, b) }

func TestWriterGroupsConcurrentBatches(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	var groups []int
	first := true
	w := trail.NewWriter(appendFunc(func(ctx context.Context, batches []*trail.Batch) error {
		mu.Lock()
		groups = append(groups, len(batches))
		wait := first
		first = false
		mu.Unlock()
		if wait {
			<-release // hold the first commit so the others queue up
		}
		return nil
	}), 1000, nil)

	var wg sync.WaitGroup
	errs := make(chan error, 11)
	wg.Add(1)
	go func() { defer wg.Done(); errs <- w.Append(context.Background(), batchOf(1)) }()
	testenv.Eventually(t, 10*time.Second, "one group in the writer", func() bool { mu.Lock(); defer mu.Unlock(); return len(groups) == 1 })
	for range 10 {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- w.Append(context.Background(), batchOf(1)) }()
	}
	testenv.Eventually(t, 10*time.Second, "queued(w)", func() bool { return queued(w) })
	close(release)
	wg.Wait()
	w.Close()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	total := 0
	for _, g := range groups {
		total += g
	}
	if total != 11 || len(groups) >= 11 {
		t.Errorf("groups = %v: want 11 batches in fewer than 11 commits", groups)
	}
}

func TestWriterReportsCommitErrorToEveryRequest(t *testing.T) {
	boom := errors.New("disk full")
	var stats []trail.CommitStats
	w := trail.NewWriter(appendFunc(func(context.Context, []*trail.Batch) error { return boom }), 10,
		func(s trail.CommitStats) { stats = append(stats, s) })
	if err := w.Append(context.Background(), batchOf(3)); !errors.Is(err, boom) {
		t.Errorf("err = %v, want %v", err, boom)
	}
	w.Close()
	if len(stats) != 1 || stats[0].Events != 3 || !errors.Is(stats[0].Err, boom) {
		t.Errorf("stats = %+v", stats)
	}
	if err := w.Append(context.Background(), batchOf(1)); trail.ErrorCode(err) != trail.EUNAVAILABLE {
		t.Errorf("append after close: err = %v, want unavailable", err)
	}
}

func batchOf(n int) *trail.Batch {
	b := &trail.Batch{}
	for range n {
		b.Events = append(b.Events, &trail.Event{ID: trail.NewID(now)})
	}
	return b
}

// queued reports whether the writer has requests waiting; it relies on
// trail.WriterQueueLen exported for tests.
func queued(w *trail.Writer) bool { return trail.WriterQueueLen(w) >= 10 }
