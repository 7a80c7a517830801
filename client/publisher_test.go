package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/client"
	"github.com/trailhq/trail/internal/testenv"
)

// fastRetries keeps retry waits short in tests.
var fastRetries = client.PublisherConfig{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}

// countStored returns how many events of action the store holds.
func countStored(tb testing.TB, c *client.Client, action string) int {
	tb.Helper()
	n := 0
	for _, err := range c.All(context.Background(), client.Query{Actions: []string{action}, Limit: 1000}) {
		if err != nil {
			tb.Fatal(err)
		}
		n++
	}
	return n
}

func publishAll(tb testing.TB, p *client.Publisher, n int, action string) {
	tb.Helper()
	for i := range n {
		if err := p.Publish(event(action, fmt.Sprintf("t%d", i))); err != nil {
			tb.Fatalf("publish %d: %v", i, err)
		}
	}
}

func TestPublisher(t *testing.T) {
	ctx := context.Background()
	t.Run("Flush", func(t *testing.T) {
		s := newServer(t, nil)
		c := s.client(t)
		var posts atomic.Int64
		s2 := newCountingProxy(t, s, &posts)
		p := client.NewPublisher(client.New(s2, s.mustKey(t, "acme", trail.ScopeEventsWrite)),
			client.PublisherConfig{BatchSize: 100, FlushInterval: time.Hour})
		publishAll(t, p, 250, "flush.tested")
		if err := p.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if got, want := countStored(t, c, "flush.tested"), 250; got != want {
			t.Errorf("stored %d events, want %d", got, want)
		}
		if got, want := posts.Load(), int64(3); got != want {
			t.Errorf("sent %d requests, want %d batches of at most 100", got, want)
		}
		if err := p.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if err := p.Publish(event("late.event", "x")); !errors.Is(err, client.ErrClosed) {
			t.Errorf("publish after close: got %v, want ErrClosed", err)
		}
	})
	t.Run("FlushInterval", func(t *testing.T) {
		s := newServer(t, nil)
		c := s.client(t)
		p := client.NewPublisher(c, client.PublisherConfig{FlushInterval: 10 * time.Millisecond})
		t.Cleanup(func() { p.Close(ctx) })
		publishAll(t, p, 1, "interval.tested")
		testenv.Eventually(t, 10*time.Second, `countStored(t, c, "interval.tested") == 1`, func() bool { return countStored(t, c, "interval.tested") == 1 })
	})
	t.Run("Close", func(t *testing.T) {
		s := newServer(t, nil)
		c := s.client(t)
		p := client.NewPublisher(c, client.PublisherConfig{FlushInterval: time.Hour})
		publishAll(t, p, 7, "close.tested")
		if err := p.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if got, want := countStored(t, c, "close.tested"), 7; got != want {
			t.Errorf("stored %d events, want %d", got, want)
		}
	})
}

// newCountingProxy serves s's API through a handler that counts POSTs.
func newCountingProxy(tb testing.TB, s *testServer, posts *atomic.Int64) string {
	tb.Helper()
	target := s.URL
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			posts.Add(1)
		}
		forward(w, r, target)
	}))
	tb.Cleanup(proxy.Close)
	return proxy.URL
}

// forward sends r to target and copies the answer back.
func forward(w http.ResponseWriter, r *http.Request, target string) {
	req, _ := http.NewRequestWithContext(r.Context(), r.Method, target+r.URL.RequestURI(), r.Body)
	req.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		w.Write(buf[:n])
		if err != nil {
			return
		}
	}
}

// lossyHandler stores every request through the real API, but for the
// first fail POSTs it throws the answer away and fails instead: with a 503,
// or by cutting the connection. That is a commit whose answer was lost, the
// case where a retry must not store the batch twice.
type lossyHandler struct {
	next    http.Handler
	fail    int64
	hangUp  bool
	posts   atomic.Int64
	mu      sync.Mutex
	keySeen map[string]int // Idempotency-Key -> requests carrying it
}

func (h *lossyHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		h.next.ServeHTTP(w, r)
		return
	}
	h.mu.Lock()
	h.keySeen[r.Header.Get("Idempotency-Key")]++
	h.mu.Unlock()
	if h.posts.Add(1) > h.fail {
		h.next.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	h.next.ServeHTTP(rec, r)
	if rec.Code != http.StatusCreated {
		panic(fmt.Sprintf("real server answered %d: %s", rec.Code, rec.Body))
	}
	if h.hangUp {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	http.Error(w, "upstream timeout", http.StatusServiceUnavailable)
}

func TestPublisherRetry(t *testing.T) {
	for _, tt := range []struct {
		name   string
		hangUp bool
	}{{"LostAnswer503", false}, {"ConnectionCut", true}} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			h := &lossyHandler{fail: 3, hangUp: tt.hangUp, keySeen: map[string]int{}}
			s := newServer(t, func(next http.Handler) http.Handler { h.next = next; return h })
			c := s.client(t)
			cfg := fastRetries
			cfg.BatchSize = 50
			cfg.FlushInterval = time.Hour
			p := client.NewPublisher(c, cfg)
			publishAll(t, p, 50, "retry.tested")
			if err := p.Close(ctx); err != nil {
				t.Fatal(err)
			}
			if got, want := countStored(t, c, "retry.tested"), 50; got != want {
				t.Errorf("stored %d events, want %d: a retry stored the batch twice or lost it", got, want)
			}
			if got, want := len(h.keySeen), 1; got != want {
				t.Errorf("used %d Idempotency-Keys, want %d for one batch", got, want)
			}
			for key, n := range h.keySeen {
				if key == "" || n != 4 {
					t.Errorf("key %q sent %d times, want 4 (3 failures and 1 success)", key, n)
				}
			}
		})
	}
}

func TestPublisherErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("RejectedBatchNotRetried", func(t *testing.T) {
		s := newServer(t, nil)
		var posts atomic.Int64
		c := client.New(newCountingProxy(t, s, &posts), s.mustKey(t, "acme", trail.ScopeEventsWrite))
		var dropped []client.Event
		cfg := fastRetries
		cfg.OnError = func(err error, events []client.Event) { dropped = append(dropped, events...) }
		p := client.NewPublisher(c, cfg)
		if err := p.Publish(event("Bad Action", "x")); err != nil {
			t.Fatal(err)
		}
		err := p.Flush(ctx)
		var e *client.Error
		if !errors.As(err, &e) || e.Status != 400 {
			t.Errorf("flush: got %v, want the 400", err)
		}
		if got, want := posts.Load(), int64(1); got != want {
			t.Errorf("sent %d requests, want %d: a 400 must not be retried", got, want)
		}
		if got, want := len(dropped), 1; got != want {
			t.Errorf("OnError got %d events, want %d", got, want)
		}
		if err := p.Flush(ctx); err != nil {
			t.Errorf("second flush: got %v, want nil: errors are reported once", err)
		}
		p.Close(ctx)
	})
	t.Run("CloseDeadlineStopsRetries", func(t *testing.T) {
		down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "down", http.StatusServiceUnavailable)
		}))
		t.Cleanup(down.Close)
		cfg := fastRetries
		cfg.MaxRetries = 1 << 30
		var failed atomic.Int64
		cfg.OnError = func(err error, events []client.Event) { failed.Add(int64(len(events))) }
		p := client.NewPublisher(client.New(down.URL, "k"), cfg)
		publishAll(t, p, 3, "never.stored")
		cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		if err := p.Close(cctx); err == nil {
			t.Error("close: got nil, want the failure")
		}
		if got, want := failed.Load(), int64(3); got != want {
			t.Errorf("OnError got %d events, want %d", got, want)
		}
	})
	t.Run("BufferFull", func(t *testing.T) {
		release := make(chan struct{})
		arrived := make(chan struct{}, 10)
		s := newServer(t, func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPost {
					arrived <- struct{}{}
					<-release
				}
				next.ServeHTTP(w, r)
			})
		})
		c := s.client(t)
		p := client.NewPublisher(c, client.PublisherConfig{BatchSize: 1, BufferSize: 2, FlushInterval: time.Hour})
		publishAll(t, p, 1, "full.tested")
		<-arrived // the publisher is now busy sending the first event
		publishAll(t, p, 2, "full.tested")
		if err := p.Publish(event("full.tested", "x")); !errors.Is(err, client.ErrBufferFull) {
			t.Errorf("got %v, want ErrBufferFull", err)
		}
		close(release)
		if err := p.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if got, want := countStored(t, c, "full.tested"), 3; got != want {
			t.Errorf("stored %d events, want %d", got, want)
		}
	})
}
