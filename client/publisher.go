package client

import (
	"context"
	crand "crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
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
	// OnError, if set, is called from the publisher's goroutine with the
	// events that could not be stored, after their retries. Batches are
	// cut under the server's limits (trail.MaxBatchEvents events,
	// trail.MaxBodyBytes of body); an event the server refuses by itself
	// (invalid, or over trail.MaxEventBytes) is reported alone, with err
	// an *Error whose details index events, and the rest of its batch is
	// sent again.
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

// queued is an event waiting to be sent, encoded once so that batches are
// cut by size as well as by count.
type queued struct {
	event Event
	json  []byte
}

// outgoing is the batch being filled: its events and its body's size.
type outgoing struct {
	events []queued
	size   int
}

func (p *Publisher) loop() {
	defer close(p.done)
	ticker := time.NewTicker(p.cfg.FlushInterval)
	defer ticker.Stop()
	var b outgoing
	for {
		select {
		case e, ok := <-p.events:
			if !ok {
				p.send(b.events)
				return
			}
			p.add(&b, e)
		case <-ticker.C:
			p.send(b.events)
			b = outgoing{}
		case reply := <-p.flush:
			p.drain(&b)
			p.send(b.events)
			b = outgoing{}
			reply <- p.failed
			p.failed = nil
		}
	}
}

// drain adds every event already in the buffer to b, sending full batches.
func (p *Publisher) drain(b *outgoing) {
	for {
		select {
		case e, ok := <-p.events:
			if !ok {
				return
			}
			p.add(b, e)
		default:
			return
		}
	}
}

// add encodes e and adds it to b, sending b first when e would take it
// past the server's limits: BatchSize events, trail.MaxBodyBytes of body.
// An event the server would refuse for its size alone (over
// trail.MaxEventBytes), or that cannot be encoded, is reported at once.
func (p *Publisher) add(b *outgoing, e Event) {
	raw, err := json.Marshal(e)
	switch {
	case err != nil:
		p.report(fmt.Errorf("trail client: encode event: %w", err), []Event{e})
		return
	case len(raw) > trail.MaxEventBytes:
		p.report(fmt.Errorf("trail client: event of %d bytes: larger than the server's limit of %d bytes",
			len(raw), trail.MaxEventBytes), []Event{e})
		return
	}
	if len(b.events) > 0 && b.size+1+len(raw) > trail.MaxBodyBytes {
		p.send(b.events)
		*b = outgoing{}
	}
	if len(b.events) == 0 {
		b.size = len(`{"events":[]}`) - 1 // the first event adds no comma
	}
	b.events = append(b.events, queued{e, raw})
	b.size += 1 + len(raw)
	if len(b.events) >= p.cfg.BatchSize {
		p.send(b.events)
		*b = outgoing{}
	}
}

// send stores batch. When the server refuses some of its events by index
// (a 400 whose details name them), only those are reported and the rest is
// sent again; a batch the server finds too large (413) is split in two.
// Anything else that fails reports the whole batch.
func (p *Publisher) send(batch []queued) {
	for len(batch) > 0 {
		err := p.post(batch)
		if err == nil {
			return
		}
		if rest, ok := p.dropInvalid(batch, err); ok {
			batch = rest
			continue
		}
		var e *Error
		if errors.As(err, &e) && e.Status == http.StatusRequestEntityTooLarge && len(batch) > 1 {
			p.send(batch[:len(batch)/2])
			p.send(batch[len(batch)/2:])
			return
		}
		p.report(err, eventsOf(batch))
		return
	}
}

// post sends batch, retrying with the same Idempotency-Key so that a batch
// whose answer was lost is not stored twice.
func (p *Publisher) post(batch []queued) error {
	raws := make([][]byte, len(batch))
	for i, q := range batch {
		raws[i] = q.json
	}
	key := newIdempotencyKey()
	for attempt := 0; ; attempt++ {
		_, err := p.c.publishEncoded(p.stop, key, raws)
		if err == nil || !retryable(err) || attempt >= p.cfg.MaxRetries || p.stop.Err() != nil ||
			p.wait(attempt, err) != nil {
			return err
		}
	}
}

// dropInvalid reports the events of batch that err (a 400 naming events
// by index) refuses and returns the others, to be sent again. ok is false
// when err is not such an answer, or names no event or a problem of the
// batch as a whole.
func (p *Publisher) dropInvalid(batch []queued, err error) (rest []queued, ok bool) {
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusBadRequest || len(e.Details) == 0 {
		return nil, false
	}
	bad := map[int]bool{}
	for _, d := range e.Details {
		if d.Index == nil || *d.Index < 0 || *d.Index >= len(batch) {
			return nil, false
		}
		bad[*d.Index] = true
	}
	// The report's details index the events it reports.
	pos := map[int]int{}
	var refused []Event
	for i, q := range batch {
		if bad[i] {
			pos[i] = len(refused)
			refused = append(refused, q.event)
		} else {
			rest = append(rest, q)
		}
	}
	mine := *e
	mine.Details = make([]trail.Detail, len(e.Details))
	for i, d := range e.Details {
		n := pos[*d.Index]
		mine.Details[i] = trail.Detail{Index: &n, Field: d.Field, Problem: d.Problem}
	}
	p.report(&mine, refused)
	return rest, true
}

// report hands events that were not stored to OnError and remembers the
// first failure for Flush and Close.
func (p *Publisher) report(err error, events []Event) {
	if p.failed == nil {
		p.failed = fmt.Errorf("publish %d events: %w", len(events), err)
	}
	if p.cfg.OnError != nil {
		p.cfg.OnError(err, events)
	}
}

func eventsOf(batch []queued) []Event {
	out := make([]Event, len(batch))
	for i, q := range batch {
		out[i] = q.event
	}
	return out
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
