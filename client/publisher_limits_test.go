package client_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/client"
)

// TestPublisherLimits: the publisher cuts batches under the server's
// limits and loses no valid event to an invalid or oversized one.
func TestPublisherLimits(t *testing.T) {
	ctx := context.Background()
	t.Run("LargeEventsAllStored", func(t *testing.T) {
		s := newServer(t, nil)
		var posts atomic.Int64
		c := client.New(newCountingProxy(t, s, &posts), s.mustKey(t, "acme", trail.ScopeEventsWrite))
		var failed []error
		cfg := fastRetries
		cfg.BatchSize, cfg.FlushInterval = trail.MaxBatchEvents, time.Hour
		cfg.OnError = func(err error, events []client.Event) { failed = append(failed, err) }
		p := client.NewPublisher(c, cfg)
		for i := range 200 {
			e := event("large.stored", fmt.Sprintf("t%d", i))
			e.Metadata = map[string]any{"blob": strings.Repeat("x", 60_000)}
			if err := p.Publish(e); err != nil {
				t.Fatal(err)
			}
		}
		if err := p.Close(ctx); err != nil {
			t.Fatalf("close: %v (OnError: %v)", err, failed)
		}
		if got, want := countStored(t, s.client(t), "large.stored"), 200; got != want {
			t.Errorf("stored %d events, want %d", got, want)
		}
		if n := posts.Load(); n < 3 {
			t.Errorf("sent %d requests, want at least 3 for 12 MB under a 5 MiB body limit", n)
		}
	})
	t.Run("OneInvalidOfThousand", func(t *testing.T) {
		s := newServer(t, nil)
		c := s.client(t)
		var mu sync.Mutex
		var reported []client.Event
		var reportErr error
		cfg := fastRetries
		cfg.BatchSize, cfg.FlushInterval = trail.MaxBatchEvents, time.Hour
		cfg.OnError = func(err error, events []client.Event) {
			mu.Lock()
			defer mu.Unlock()
			reported, reportErr = append(reported, events...), err
		}
		p := client.NewPublisher(c, cfg)
		for i := range 1000 {
			action := "mixed.stored"
			if i == 537 {
				action = "Not An Action"
			}
			if err := p.Publish(event(action, fmt.Sprintf("t%d", i))); err != nil {
				t.Fatal(err)
			}
		}
		if err := p.Flush(ctx); err == nil {
			t.Error("flush: got nil, want the refused event's error")
		}
		if got, want := countStored(t, c, "mixed.stored"), 999; got != want {
			t.Errorf("stored %d events, want %d", got, want)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(reported) != 1 || reported[0].Action != "Not An Action" || reported[0].Targets[0].ID != "t537" {
			t.Fatalf("reported %d events, want only the invalid one", len(reported))
		}
		e, ok := reportErr.(*client.Error)
		if !ok || e.Status != 400 || len(e.Details) != 1 || *e.Details[0].Index != 0 || !strings.Contains(e.Details[0].Field, "action") {
			t.Errorf("reported error %#v, want the 400 with its detail indexing the reported event", reportErr)
		}
		p.Close(ctx)
	})
	t.Run("OversizedEventReportedAlone", func(t *testing.T) {
		s := newServer(t, nil)
		c := s.client(t)
		var reported []client.Event
		cfg := fastRetries
		cfg.OnError = func(err error, events []client.Event) { reported = append(reported, events...) }
		p := client.NewPublisher(c, cfg)
		big := event("big.stored", "huge")
		big.Metadata = map[string]any{"blob": strings.Repeat("x", trail.MaxEventBytes)}
		p.Publish(event("big.stored", "a"))
		p.Publish(big)
		p.Publish(event("big.stored", "b"))
		if err := p.Close(ctx); err == nil {
			t.Error("close: got nil, want the oversized event's error")
		}
		if got := countStored(t, c, "big.stored"); got != 2 {
			t.Errorf("stored %d events, want the 2 others", got)
		}
		if len(reported) != 1 || reported[0].Targets[0].ID != "huge" {
			t.Errorf("reported %d events, want only the oversized one", len(reported))
		}
	})
}
