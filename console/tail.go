package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/trailhq/trail"
)

// Live tail limits.
const (
	tailBatch     = 200              // events read from one log per poll
	tailHeartbeat = 15 * time.Second // keeps proxies from closing an idle stream
)

// tailCursor is where the tail stands in the two logs a tenant's user
// sees: the tenant's own and the system log. Both are dense Seq numbers in
// commit order, so following them never skips or repeats an event.
type tailCursor struct {
	Tenant int64
	System int64
}

func (c tailCursor) id() string { return fmt.Sprintf("%d.%d", c.Tenant, c.System) }

// handleTail streams new events that match the view's filters as
// server-sent events. Each message carries the rendered table row; its id
// is the cursor, so a reconnecting browser (Last-Event-ID) resumes where it
// stopped. Its browser side is an EventSource, not a page: it answers
// its own errors in plain text rather than return them for the error page.
func (s *Server) handleTail(w http.ResponseWriter, r *http.Request, v *viewer) error {
	f, err := parseFilters(query(r), v.user.Scope())
	if err != nil {
		http.Error(w, trail.ErrorMessage(err), http.StatusBadRequest)
		return nil
	}
	ctx := r.Context()
	cur, err := s.tailStart(ctx, v.user.Tenant, r.Header.Get("Last-Event-ID"))
	if err != nil {
		s.logger.Error("live tail start", "err", err)
		http.Error(w, "the live tail is unavailable; try again", http.StatusServiceUnavailable)
		return nil
	}
	rc := http.NewResponseController(w)
	// The stream outlives the server's read and write timeouts: it reads
	// nothing more, and each write sets its own deadline.
	rc.SetReadDeadline(time.Time{})
	rc.SetWriteDeadline(time.Now().Add(tailWriteTimeout))
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "retry: 3000\nid: %s\n: following\n\n", cur.id())
	rc.Flush()
	s.followTail(ctx, w, rc, v, f, cur, s.columnsOf(r, v))
	return nil
}

// tailWriteTimeout bounds one write of the live tail: a client that stops
// reading is cut off, one that reads is streamed to for as long as it
// stays.
const tailWriteTimeout = time.Minute

// followTail polls both logs until the client leaves, the session ends
// or its user may no longer read (the store says so, checked on every
// poll and at once when this node revokes the session or changes the
// user) or a write fails.
func (s *Server) followTail(ctx context.Context, w http.ResponseWriter, rc *http.ResponseController, v *viewer, f *filters, cur tailCursor, cols columnSet) {
	revoked, unsubscribe := s.sessions.subscribe(v.user.Tenant, v.session.ID, v.user.ID)
	defer func() { unsubscribe() }()
	poll := time.NewTicker(s.cfg.TailInterval)
	defer poll.Stop()
	lastWrite := time.Now()
	ended := func() {
		rc.SetWriteDeadline(time.Now().Add(tailWriteTimeout))
		fmt.Fprint(w, "event: end\ndata: your session has ended\n\n")
		rc.Flush()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.streams:
			return
		case <-revoked:
			if !s.sessionLive(ctx, v) {
				ended()
				return
			}
			// The user changed but may still read: follow the next change.
			unsubscribe()
			revoked, unsubscribe = s.sessions.subscribe(v.user.Tenant, v.session.ID, v.user.ID)
			continue
		case <-poll.C:
		}
		// Every poll checks the session in the store again, so that a
		// revocation on another node ends the stream within one interval.
		if !s.sessionLive(ctx, v) {
			ended()
			return
		}
		var buf bytes.Buffer
		next, err := s.tailPoll(ctx, &buf, f, cur, v.user.Tenant, cols)
		if err != nil {
			s.logger.Warn("live tail poll", "err", err)
			continue
		}
		cur = next
		if buf.Len() == 0 && time.Since(lastWrite) < tailHeartbeat {
			continue
		}
		if buf.Len() == 0 {
			buf.WriteString(": heartbeat\n\n")
		}
		rc.SetWriteDeadline(time.Now().Add(tailWriteTimeout))
		if _, err := w.Write(buf.Bytes()); err != nil || rc.Flush() != nil {
			return
		}
		lastWrite = time.Now()
	}
}

// sessionLive reports whether v's session is still active in the store
// and its user may still read the audit log.
func (s *Server) sessionLive(ctx context.Context, v *viewer) bool {
	sess, err := s.users.Session(ctx, v.session.Hash)
	if err != nil || !sess.Active(s.now(), s.cfg.IdleTimeout) {
		return false
	}
	u, err := s.users.User(ctx, sess.Tenant, sess.UserID)
	return err == nil && u.CanReadAudit()
}

// tailRow is one live-tail message.
type tailRow struct {
	ID   string `json:"id"`
	HTML string `json:"html"`
}

// tailPoll writes a message for every new matching event of both logs and
// returns the cursor past them.
func (s *Server) tailPoll(ctx context.Context, buf *bytes.Buffer, f *filters, cur tailCursor, tenant string, cols columnSet) (tailCursor, error) {
	for _, lg := range []struct {
		tenant string
		seq    *int64
	}{{tenant, &cur.Tenant}, {trail.SystemTenant, &cur.System}} {
		events, err := s.store.LogEvents(ctx, lg.tenant, *lg.seq, tailBatch)
		if err != nil {
			return cur, err
		}
		for _, e := range events {
			*lg.seq = e.Seq + 1
			if !f.query.Keeps(e) {
				continue
			}
			var row bytes.Buffer
			if err := s.pages.sets["events"].ExecuteTemplate(&row, "row", rowView{Event: e, Cols: cols}); err != nil {
				return cur, err
			}
			msg, _ := json.Marshal(tailRow{ID: e.ID, HTML: row.String()})
			fmt.Fprintf(buf, "event: row\nid: %s\ndata: %s\n\n", cur.id(), msg)
		}
	}
	return cur, nil
}

// tailStart resumes from a Last-Event-ID the tail sent, or starts at the
// heads of both logs: only events from now on.
func (s *Server) tailStart(ctx context.Context, tenant, last string) (tailCursor, error) {
	var c tailCursor
	if n, _ := fmt.Sscanf(last, "%d.%d", &c.Tenant, &c.System); n == 2 && c.Tenant >= 0 && c.System >= 0 {
		return c, nil
	}
	var err error
	if c.Tenant, err = s.logHead(ctx, tenant); err != nil {
		return c, err
	}
	c.System, err = s.logHead(ctx, trail.SystemTenant)
	return c, err
}

// logHead returns the length of tenant's log (the next Seq) with
// O(log n) one-row reads: Seq is dense, so "an event with Seq >= k exists"
// is true up to the head and false after it.
func (s *Server) logHead(ctx context.Context, tenant string) (int64, error) {
	exists := func(k int64) (bool, error) {
		ev, err := s.store.LogEvents(ctx, tenant, k, 1)
		return len(ev) > 0, err
	}
	lo, n := int64(0), int64(1) // every Seq below lo exists
	for {
		ok, err := exists(n - 1)
		if err != nil {
			return 0, err
		}
		if !ok {
			break
		}
		lo, n = n, n*2
	}
	hi := n - 1 // no Seq >= hi exists
	for lo < hi {
		mid := lo + (hi-lo)/2
		ok, err := exists(mid)
		if err != nil {
			return 0, err
		}
		if ok {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, nil
}
