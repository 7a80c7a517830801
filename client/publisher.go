package client

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sync"
	"time"

	"github.com/trailhq/trail"
)

// Publisher errors.
var (
	// ErrBufferFull is returned by Publisher.Publish when the buffer holds
	// BufferSize events that are not sent yet.
	ErrBufferFull = errors.New("trail client: publisher buffer full")
	// ErrClosed is returned by Publisher.Publish after Close.
	ErrClosed = errors.New("trail client: publisher closed")
)

// PublisherConfig tunes a Publisher. Zero fields take the defaults.
type PublisherConfig struct {
	// BatchSize is the most events sent in one request (default 100, at
	// most trail.MaxBatchEvents).
	BatchSize int
	// FlushInterval is the longest an event waits in the buffer before it
	// is sent (default 1s).
	FlushInterval time.Duration
	// BufferSize is the most events waiting to be sent (default 10000).
	// Publish fails with ErrBufferFull beyond it instead of blocking.
	BufferSize int
	// MaxRetries is how many times a failed batch is sent again (default
	// 8; negative for never). Only network errors, 429 and 5xx answers are
	// retried; a rejected batch (4xx) is never sent again.
	MaxRetries int
	// MinBackoff and MaxBackoff bound the wait before a retry (defaults
	// 100ms and 10s). The wait doubles each attempt, with full jitter.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// OnError, if set, is called from the publisher's goroutine with every
	// batch that could not be stored, after its retries.
	OnError func(err error, events []Event)
}

func (cfg PublisherConfig) withDefaults() PublisherConfig {
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 100
	}
	cfg.BatchSize = min(cfg.BatchSize, trail.MaxBatchEvents)
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = time.Second
	}
	if cfg.BufferSize <= 0 {
		cfg.BufferSize = 10000
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 8
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 100 * time.Millisecond
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(10*time.Second, cfg.MinBackoff)
	}
	return cfg
}

// Publisher sends events in batches from a background goroutine, so that
// publishing never blocks the application. An event is stored only once a
// Flush or Close that follows its Publish returns nil.
type Publisher struct {
	c      *Client
	cfg    PublisherConfig
	events chan Event
	flush  chan chan error
	done   chan struct{}

	mu     sync.RWMutex // guards closed against sends on a closed events
	closed bool
	// stop cancels retries once Close's context ends.
	stop    context.Context
	stopNow context.CancelFunc
	failed  error // the first failure since the last flush; loop only
}

// NewPublisher starts a publisher that sends through c.
func NewPublisher(c *Client, cfg PublisherConfig) *Publisher {
	cfg = cfg.withDefaults()
	p := &Publisher{
		c:      c,
		cfg:    cfg,
		events: make(chan Event, cfg.BufferSize),
		flush:  make(chan chan error),
		done:   make(chan struct{}),
	}
	p.stop, p.stopNow = context.WithCancel(context.Background())
	go p.loop()
	return p
}

// Publish queues e to be sent. It never blocks: it returns ErrBufferFull
// when the buffer is full and ErrClosed after Close. A zero OccurredAt is
// set to now, the time of the call.
func (p *Publisher) Publish(e Event) error {
	if e.OccurredAt.IsZero() {
		e.OccurredAt = p.c.now()
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return ErrClosed
	}
	select {
	case p.events <- e:
		return nil
	default:
		return ErrBufferFull
	}
}

// Flush sends every event published before the call and returns the first
// error since the previous Flush: nil means they are all stored.
func (p *Publisher) Flush(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case p.flush <- reply:
	case <-p.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops accepting events, sends the buffered ones and returns the
// first error since the last Flush. When ctx ends first, retries stop and
// the batches not stored go to OnError.
func (p *Publisher) Close(ctx context.Context) error {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.events)
	}
	p.mu.Unlock()
	stop := context.AfterFunc(ctx, p.stopNow)
	defer stop()
	<-p.done
	p.stopNow()
	return p.failed
}

func (p *Publisher) loop() {
	defer close(p.done)
	ticker := time.NewTicker(p.cfg.FlushInterval)
	defer ticker.Stop()
	var batch []Event
	for {
		select {
		case e, ok := <-p.events:
			if !ok {
				p.send(batch)
				return
			}
			batch = append(batch, e)
			if len(batch) >= p.cfg.BatchSize {
				p.send(batch)
				batch = nil
			}
		case <-ticker.C:
			p.send(batch)
			batch = nil
		case reply := <-p.flush:
			batch = p.drain(batch)
			p.send(batch)
			batch = nil
			reply <- p.failed
			p.failed = nil
		}
	}
}

// drain sends every event already in the buffer, in batches, and returns
// the last partial batch.
func (p *Publisher) drain(batch []Event) []Event {
	for {
		select {
		case e, ok := <-p.events:
			if !ok {
				return batch
			}
			batch = append(batch, e)
			if len(batch) >= p.cfg.BatchSize {
				p.send(batch)
				batch = nil
			}
		default:
			return batch
		}
	}
}

// send stores batch, retrying with the same Idempotency-Key so that a batch
// whose answer was lost is not stored twice.
func (p *Publisher) send(batch []Event) {
	if len(batch) == 0 {
		return
	}
	key := newIdempotencyKey()
	var err error
	for attempt := 0; ; attempt++ {
		_, err = p.c.PublishIdempotent(p.stop, key, batch...)
		if err == nil || !retryable(err) || attempt >= p.cfg.MaxRetries || p.stop.Err() != nil ||
			p.wait(attempt, err) != nil {
			break
		}
	}
	if err == nil {
		return
	}
	if p.failed == nil {
		p.failed = fmt.Errorf("publish %d events: %w", len(batch), err)
	}
	if p.cfg.OnError != nil {
		p.cfg.OnError(err, batch)
	}
}

// wait sleeps before retry number attempt+1: full jitter over an
// exponentially growing bound, or at least the server's Retry-After.
func (p *Publisher) wait(attempt int, err error) error {
	bound := p.cfg.MinBackoff << min(attempt, 30)
	if bound <= 0 || bound > p.cfg.MaxBackoff {
		bound = p.cfg.MaxBackoff
	}
	d := rand.N(bound) + 1
	var e *Error
	if errors.As(err, &e) && e.RetryAfter > d {
		d = min(e.RetryAfter, p.cfg.MaxBackoff)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-p.stop.Done():
		return p.stop.Err()
	}
}

// retryable reports whether err may go away if the batch is sent again:
// network errors (which net/http returns as *url.Error), 429 and 5xx. An
// event that cannot be encoded fails the same way every time.
func retryable(err error) bool {
	var e *Error
	var ue *url.Error
	switch {
	case errors.As(err, &e):
		return e.Temporary()
	default:
		return errors.As(err, &ue)
	}
}

func newIdempotencyKey() string { return "pub_" + crand.Text() }
