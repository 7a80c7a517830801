package forward

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/trailhq/trail"
)

const (
	// readAhead is how many events one stream read fetches.
	readAhead = 256
	// maxSkip bounds how many filtered-out events one step scans, so the
	// cursor is saved now and then while a selective filter skips a lot.
	maxSkip = 10 * readAhead
	// failingAfter is how many failed attempts in a row make a forwarder
	// "failing" rather than "retrying".
	failingAfter = 5
	// maxErrorLen bounds the error text kept in status and dead letters.
	maxErrorLen = 1000
)

// runner is one forwarder's delivery loop, run while this node holds the
// forwarder's lease. It follows the store-wide stream from the stored
// cursor, delivers matching events in order, and moves the cursor only
// after the receiver acknowledged (or the events went to the dead-letter
// list).
type runner struct {
	f    *trail.Forwarder
	s    Store
	out  sender
	m    *metrics
	log  *slog.Logger
	cfg  *Config
	wake *trail.Wake

	st       trail.ForwarderStatus // progress; saved when dirty
	dirty    bool
	savedAt  time.Time
	buf      []*trail.Event // events read ahead, after st.Cursor
	readPos  int64          // Pos of the last event read into buf
	replayAt time.Time      // when dead letters were last checked for replay
	lagAt    time.Time      // when the lag gauge was last set
}

func (r *runner) run(ctx context.Context) error {
	defer r.flush()
	r.readPos = r.st.Cursor
	for {
		if err := r.replayDue(ctx); err != nil {
			return err
		}
		b, end, err := r.next(ctx)
		switch {
		case err != nil:
			return err
		case end == r.st.Cursor:
			err = r.idle(ctx)
		case len(b.events) == 0:
			r.st.Cursor, r.st.Pending, r.dirty = end, 0, true
			err = r.checkpoint(ctx, false)
		default:
			err = r.deliver(ctx, b, end)
		}
		if err != nil {
			return err
		}
	}
}

// next collects the next batch and the Pos it ends at (the last event
// examined, matching or not). A pending batch from before a restart is
// rebuilt exactly; a new one takes up to Batch.Size matching events,
// waiting up to Batch.Wait after the first for more.
func (r *runner) next(ctx context.Context) (*batch, int64, error) {
	b, end, scanned := &batch{}, r.st.Cursor, 0
	pending := r.st.Pending
	if pending <= end {
		pending = 0
	}
	var deadline time.Time
	for pending > 0 || len(b.events) < r.f.Batch.Size && scanned < maxSkip {
		if err := r.fill(ctx); err != nil {
			return nil, 0, err
		}
		if len(r.buf) == 0 {
			if pending > 0 {
				// The rest of the pending batch is gone (retention).
				return b, pending, nil
			}
			if len(b.events) == 0 || !r.waitUntil(ctx, deadline) {
				break
			}
			continue
		}
		e := r.buf[0]
		if pending > 0 && e.Pos > pending {
			break
		}
		r.buf, end = r.buf[1:], e.Pos
		scanned++
		if r.f.Sees(e) {
			b.events = append(b.events, e)
			if len(b.events) == 1 {
				deadline = r.cfg.Now().Add(r.f.Batch.Wait.Std())
			}
		}
	}
	return b, end, ctx.Err()
}

// fill reads the next events of the stream when the buffer is empty.
func (r *runner) fill(ctx context.Context) error {
	if len(r.buf) > 0 {
		return nil
	}
	evs, err := r.s.StreamEvents(ctx, r.readPos, readAhead)
	if err != nil {
		return fmt.Errorf("read stream: %w", err)
	}
	if len(evs) > 0 {
		r.buf, r.readPos = evs, evs[len(evs)-1].Pos
	}
	return nil
}

// waitUntil waits for new events until deadline and reports whether the
// deadline is still ahead.
func (r *runner) waitUntil(ctx context.Context, deadline time.Time) bool {
	d := deadline.Sub(r.cfg.Now())
	if d <= 0 {
		return false
	}
	return r.wake.Wait(ctx, d) == nil
}

// idle saves progress, updates the lag and waits for new events.
func (r *runner) idle(ctx context.Context) error {
	if err := r.checkpoint(ctx, true); err != nil {
		return err
	}
	r.lagAt = time.Time{}
	r.updateLag(ctx)
	return r.wake.Wait(ctx, 0)
}

// deliver sends b until the receiver acknowledges it or the forwarder
// gives up on it, then moves the cursor to end.
func (r *runner) deliver(ctx context.Context, b *batch, end int64) error {
	if len(b.events) < r.f.Batch.Size && r.st.Pending != end {
		// A short batch's composition depends on timing (what had arrived
		// when it was cut); recording where it ends lets a restart send
		// the very same batch again. A full batch is simply the next
		// Batch.Size matching events, which a restart finds again.
		r.st.Pending = end
		if err := r.save(ctx); err != nil {
			return err
		}
	}
	b.id = batchID(b.events, r.f.Batch.Size == 1)
	n, err := r.attempt(ctx, b)
	if err != nil && ctx.Err() != nil {
		// Stopped before an acknowledgement: the next holder sends b again.
		return ctx.Err()
	}
	if err != nil {
		if err := r.deadLetter(ctx, b, n, err); err != nil {
			return err
		}
	}
	r.st.Cursor, r.st.Pending, r.dirty = end, 0, true
	r.updateLag(ctx)
	return r.checkpoint(ctx, err != nil)
}

// attempt sends b, retrying with backoff, and returns the number of
// attempts and the last error: nil once delivered, or the error that made
// it give up (permanent, or attempts used up).
func (r *runner) attempt(ctx context.Context, b *batch) (int, error) {
	for n := 1; ; n++ {
		err := r.send(ctx, b)
		if err == nil {
			r.m.delivered.WithLabelValues(r.f.Tenant, r.f.Name).Add(float64(len(b.events)))
			r.st.State, r.st.Attempts, r.st.LastSuccessAt, r.dirty = trail.ForwarderActive, 0, r.cfg.Now(), true
			return n, nil
		}
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		r.st.State, r.st.Attempts = trail.ForwarderRetrying, n
		if n >= failingAfter {
			r.st.State = trail.ForwarderFailing
		}
		r.st.LastError, r.st.LastErrorAt = truncate(ErrorText(err)), r.cfg.Now()
		if isPermanent(err) || n >= r.f.Retry.MaxAttempts {
			return n, err
		}
		r.m.retries.WithLabelValues(r.f.Tenant, r.f.Name).Inc()
		wait := backoff(n, r.f.Retry.MinBackoff.Std(), r.f.Retry.MaxBackoff.Std(), err)
		r.log.Warn("forwarder delivery failed; retrying", "forwarder", r.f.LeaseName(), "attempt", n,
			"events", len(b.events), "retry_in", wait, "err", err, "response", responseBody(err))
		if err := r.save(ctx); err != nil {
			return n, err
		}
		if err := sleep(ctx, wait); err != nil {
			return n, err
		}
	}
}

// send makes one delivery attempt. A stop (ctx ending) does not abandon
// a request in flight, which the receiver may already have taken: it may
// finish for up to a third of the lease time, so still under this node's
// lease (renewed every third), and its acknowledgement is then saved
// before the lease is released. That way a graceful stop or handover
// delivers no event twice; only a crash can.
func (r *runner) send(ctx context.Context, b *batch) error {
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(r.cfg.LeaseTTL/3, cancel) })
	defer stop()
	return r.out.send(sctx, b)
}

// deadLetter puts b's events on the dead-letter list after n attempts.
func (r *runner) deadLetter(ctx context.Context, b *batch, n int, cause error) error {
	now := r.cfg.Now()
	dls := make([]*trail.DeadLetter, len(b.events))
	for i, e := range b.events {
		dls[i] = &trail.DeadLetter{EventID: e.ID, Pos: e.Pos, Tenant: e.Tenant, Action: e.Action,
			Attempts: n, Error: truncate(ErrorText(cause)), FailedAt: now}
	}
	if err := r.s.AddDeadLetters(ctx, r.f.ID, dls); err != nil {
		return fmt.Errorf("add dead letters: %w", err)
	}
	r.m.failed.WithLabelValues(r.f.Tenant, r.f.Name).Add(float64(len(dls)))
	r.st.State, r.dirty = trail.ForwarderFailing, true
	r.log.Error("forwarder gave up; events moved to the dead-letter list", "forwarder", r.f.LeaseName(),
		"events", len(dls), "attempts", n, "permanent", isPermanent(cause), "err", cause, "response", responseBody(cause))
	return nil
}

// replayDue delivers the dead letters an admin asked to replay, checking
// at most once per poll interval.
func (r *runner) replayDue(ctx context.Context) error {
	if r.cfg.Now().Sub(r.replayAt) < r.cfg.Poll {
		return nil
	}
	r.replayAt = r.cfg.Now()
	for {
		dls, err := r.s.DeadLetters(ctx, r.f.ID, trail.DeadLetterQuery{ReplayOnly: true, Limit: r.f.Batch.Size})
		if err != nil || len(dls) == 0 {
			return err
		}
		done, err := r.replay(ctx, dls)
		if err != nil || !done {
			return err
		}
	}
}

// replay delivers dls once more; on failure they go back to the
// dead-letter list, and done is false.
func (r *runner) replay(ctx context.Context, dls []*trail.DeadLetter) (done bool, err error) {
	ids := make([]string, len(dls))
	var evs []*trail.Event
	for i, d := range dls {
		ids[i] = d.EventID
		e, err := r.s.Event(ctx, trail.Scope{All: true}, d.EventID)
		switch {
		case trail.ErrorCode(err) == trail.ENOTFOUND:
			r.log.Warn("dead letter's event no longer stored; dropped", "forwarder", r.f.LeaseName(), "event", d.EventID)
		case err != nil:
			return false, fmt.Errorf("read dead letter's event: %w", err)
		default:
			evs = append(evs, e)
		}
	}
	if len(evs) > 0 {
		b := &batch{events: evs, id: batchID(evs, r.f.Batch.Size == 1)}
		n, err := r.attempt(ctx, b)
		switch {
		case err != nil && ctx.Err() != nil:
			return false, ctx.Err()
		case err != nil:
			return false, r.deadLetter(ctx, b, n, err)
		}
	}
	// Delivered: forget them even when a stop came meanwhile, or the next
	// holder would replay them again.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := r.s.DeleteDeadLetters(dctx, r.f.ID, ids); err != nil {
		return false, fmt.Errorf("delete replayed dead letters: %w", err)
	}
	return true, r.checkpoint(ctx, true)
}

// checkpoint saves progress when it changed and, unless forced, the last
// save is older than Config.Checkpoint: after a crash at most that much is
// delivered again, with the same ids.
func (r *runner) checkpoint(ctx context.Context, force bool) error {
	if !r.dirty || !force && r.cfg.Now().Sub(r.savedAt) < r.cfg.Checkpoint {
		return nil
	}
	return r.save(ctx)
}

func (r *runner) save(ctx context.Context) error {
	if err := r.s.SaveForwarderStatus(ctx, r.f.ID, &r.st); err != nil {
		return fmt.Errorf("save forwarder status: %w", err)
	}
	r.dirty, r.savedAt = false, r.cfg.Now()
	return nil
}

// flush saves unsaved progress when the loop ends: the events behind it
// were acknowledged, so saving it even after the lease is lost is right,
// and the store never moves a cursor back.
func (r *runner) flush() {
	if !r.dirty {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.save(ctx); err != nil {
		r.log.Warn("save forwarder progress", "forwarder", r.f.LeaseName(), "err", err)
	}
}

// updateLag sets the lag gauge, at most once a second while busy.
func (r *runner) updateLag(ctx context.Context) {
	if r.cfg.Now().Sub(r.lagAt) < time.Second {
		return
	}
	head, err := r.s.StreamHead(ctx)
	if err != nil {
		return
	}
	r.lagAt = r.cfg.Now()
	r.m.lag.WithLabelValues(r.f.Tenant, r.f.Name).Set(float64(max(0, head-r.st.Cursor)))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func truncate(s string) string {
	if len(s) > maxErrorLen {
		return s[:maxErrorLen] + "..."
	}
	return s
}
