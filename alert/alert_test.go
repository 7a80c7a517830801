package alert_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/alert"
	"github.com/trailhq/trail/internal/testenv"
	"github.com/trailhq/trail/internal/teststore"
)

// receiver is a real webhook endpoint that records what it is sent and
// answers with the statuses queued in fail first, then 200.
type receiver struct {
	srv *httptest.Server

	mu     sync.Mutex
	bodies [][]byte
	heads  []http.Header
	fail   []int
}

func newReceiver(t *testing.T, fail ...int) *receiver {
	rc := &receiver{fail: fail}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if len(rc.fail) > 0 {
			w.WriteHeader(rc.fail[0])
			rc.fail = rc.fail[1:]
			return
		}
		rc.bodies = append(rc.bodies, b)
		rc.heads = append(rc.heads, r.Header.Clone())
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) received() ([][]byte, []http.Header) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([][]byte(nil), rc.bodies...), append([]http.Header(nil), rc.heads...)
}

type harness struct {
	allow  []netip.Prefix // networks tenants' webhooks may reach
	t      *testing.T
	store  alert.Store
	writer *trail.Writer
}

func newHarness(t *testing.T, s trail.Store) *harness {
	w := trail.NewWriter(s, 1000, nil)
	t.Cleanup(func() { w.Close() })
	return &harness{t: t, store: s.(alert.Store), writer: w, allow: loopback}
}

// loopback lets tenants' webhooks reach the tests' local receivers.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// start runs an evaluator until the returned stop is called (or the test
// ends), as a node holding the lease would.
func (h *harness) start() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ev := alert.New(alert.Config{Store: h.store, Writer: h.writer, Poll: 10 * time.Millisecond, SaveEvery: 10 * time.Millisecond,
		Client: &http.Client{Timeout: 5 * time.Second}, AllowNetworks: h.allow})
	done := make(chan error, 1)
	go func() { done <- ev.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				h.t.Errorf("evaluator: %v", err)
			}
		})
	}
	h.t.Cleanup(stop)
	// A fresh store's evaluator starts at the stream's head: wait for that
	// before the test emits events.
	testenv.Eventually(h.t, 10*time.Second, "the evaluator to start", func() bool {
		cursor, _, err := h.store.AlertState(context.Background())
		return err == nil && cursor >= 0
	})
	return stop
}

func (h *harness) rule(r *trail.AlertRule) *trail.AlertRule {
	h.t.Helper()
	r.ID, r.CreatedAt = trail.NewID(time.Now()), time.Now().UTC().Add(-time.Second)
	if err := r.Validate(); err != nil {
		h.t.Fatalf("rule: %v", err)
	}
	if err := h.store.CreateAlertRule(context.Background(), r); err != nil {
		h.t.Fatalf("create rule: %v", err)
	}
	return r
}

// emit appends one event of tenant acme now and returns it.
func (h *harness) emit(action, actor string) *trail.Event {
	h.t.Helper()
	return h.emitAt(action, actor, time.Now())
}

// emitAt appends one event of tenant acme received at t.
func (h *harness) emitAt(action, actor string, t time.Time) *trail.Event {
	h.t.Helper()
	e := trail.NewSystemEvent("acme", action, trail.Actor{Type: "user", ID: actor}, trail.Context{IP: "203.0.113.9"},
		t, trail.Target{Type: "team", ID: "t1"})
	if err := h.writer.Append(context.Background(), &trail.Batch{Events: []*trail.Event{e}}); err != nil {
		h.t.Fatalf("append: %v", err)
	}
	return e
}

// settle waits until the evaluator has read every stored event and no
// firing is waiting for delivery.
func (h *harness) settle() {
	h.t.Helper()
	ctx := context.Background()
	testenv.Eventually(h.t, 10*time.Second, "evaluator to catch up and deliver", func() bool {
		cursor, _, err1 := h.store.AlertState(ctx)
		unread, err2 := h.store.StreamEvents(ctx, cursor, 1)
		due, err3 := h.store.PendingAlertFirings(ctx, time.Now().Add(time.Hour), 10)
		return err1 == nil && err2 == nil && err3 == nil && cursor >= 0 && len(unread) == 0 && len(due) == 0
	})
}

// alertEvents returns the stored alert events of tenant acme.
func (h *harness) alertEvents() []*trail.Event {
	h.t.Helper()
	page, err := h.store.Events(context.Background(), &trail.Query{Scope: trail.Scope{Tenant: "acme"}, ActorType: trail.ActorAlert})
	if err != nil {
		h.t.Fatal(err)
	}
	return page.Events
}

func threshold(url string) *trail.AlertRule {
	return &trail.AlertRule{Tenant: "acme", Name: "brute force",
		Filter:    trail.AlertFilter{Actions: []string{"login.failure"}},
		Condition: trail.AlertCondition{Type: trail.AlertThreshold, Count: 5, Window: trail.Duration(10 * time.Minute), GroupBy: trail.GroupByActor},
		Webhook:   trail.AlertWebhook{URL: url, Secret: "topsecret"}}
}

func TestThresholdFiresOncePerWindow(t *testing.T) {
	teststore.ForEach(t, func(t *testing.T, s trail.Store) {
		h := newHarness(t, s)
		rc := newReceiver(t)
		r := h.rule(threshold(rc.srv.URL))
		h.start()
		for range 4 {
			h.emit("login.failure", "u1")
			h.emit("login.failure", "u2")
		}
		h.emit("login.success", "u1")
		h.settle()
		if bodies, _ := rc.received(); len(bodies) != 0 {
			t.Fatalf("fired before the threshold: %s", bodies[0])
		}
		fifth := h.emit("login.failure", "u1")
		h.emit("login.failure", "u1") // same window: no second firing
		h.emit("login.failure", "u1")
		h.settle()
		bodies, heads := rc.received()
		if len(bodies) != 1 {
			t.Fatalf("webhook got %d messages, want 1", len(bodies))
		}
		var m alert.Message
		if err := json.Unmarshal(bodies[0], &m); err != nil {
			t.Fatal(err)
		}
		got := [4]any{m.Rule.ID, m.Count, m.Subject.ID, m.EventIDs[4]}
		if want := [4]any{r.ID, 5, "u1", fifth.ID}; got != want {
			t.Errorf("message (rule, count, subject, last event) = %v, want %v", got, want)
		}
		if got, want := heads[0].Get("X-Trail-Signature"), alert.Sign("topsecret", bodies[0]); got != want {
			t.Errorf("signature = %q, want %q", got, want)
		}
		evs := h.alertEvents()
		if len(evs) != 1 || evs[0].ID != m.AlertEventID || evs[0].Actor.ID != r.ID || evs[0].Action != "alert.fired" {
			t.Fatalf("alert events = %+v, want one alert.fired with id %s", evs, m.AlertEventID)
		}
		// Five more a window later are a new window, which fires again.
		later := time.Now().Add(11 * time.Minute)
		for i := range 5 {
			h.emitAt("login.failure", "u1", later.Add(time.Duration(i)*time.Second))
		}
		h.settle()
		if bodies, _ := rc.received(); len(bodies) != 2 {
			t.Fatalf("webhook got %d messages after a second window, want 2", len(bodies))
		}
	})
}

func TestRestartDoesNotFireTwice(t *testing.T) {
	teststore.ForEach(t, func(t *testing.T, s trail.Store) {
		h := newHarness(t, s)
		rc := newReceiver(t)
		h.rule(threshold(rc.srv.URL))
		stop := h.start()
		for range 3 {
			h.emit("login.failure", "u1")
		}
		h.settle()
		stop() // the node goes away with 3 of 5 counted
		stop = h.start()
		h.emit("login.failure", "u1")
		h.emit("login.failure", "u1") // the window survived the restart
		h.settle()
		stop()
		stop2 := h.start() // another evaluator takes over from the same state
		h.settle()
		stop2()
		if bodies, _ := rc.received(); len(bodies) != 1 {
			t.Fatalf("webhook got %d messages, want 1", len(bodies))
		}
		if evs := h.alertEvents(); len(evs) != 1 {
			t.Fatalf("%d alert events, want 1", len(evs))
		}
	})
}

func TestAnyMatchSlackWithRetries(t *testing.T) {
	teststore.ForEach(t, func(t *testing.T, s trail.Store) {
		h := newHarness(t, s)
		rc := newReceiver(t, http.StatusServiceUnavailable) // the first attempt fails
		r := &trail.AlertRule{Tenant: "acme", Name: "<admin> deleted",
			Filter:    trail.AlertFilter{Actions: []string{"team.*"}, Context: trail.AlertContextFilter{IP: "203.0.113.0/24"}},
			Condition: trail.AlertCondition{Type: trail.AlertAny},
			Webhook:   trail.AlertWebhook{URL: rc.srv.URL, Format: trail.WebhookSlack}}
		h.rule(r)
		h.start()
		e := h.emit("team.deleted", "u7")
		h.emit("user.deleted", "u7")
		testenv.Eventually(t, 10*time.Second, "the retried webhook", func() bool { b, _ := rc.received(); return len(b) > 0 })
		if b, _ := rc.received(); len(b) != 1 {
			t.Fatalf("webhook got %d messages: %q", len(b), b)
		}
		h.settle()
		bodies, _ := rc.received()
		var msg map[string]string
		if err := json.Unmarshal(bodies[0], &msg); err != nil || len(msg) != 1 {
			t.Fatalf("slack body %s: want only a text field (%v)", bodies[0], err)
		}
		for _, want := range []string{"&lt;admin&gt; deleted", "team.*", "user u7"} {
			if !strings.Contains(msg["text"], want) {
				t.Errorf("slack text %q lacks %q", msg["text"], want)
			}
		}
		evs := h.alertEvents()
		if len(evs) != 1 || !strings.Contains(string(evs[0].Metadata), e.ID) {
			t.Fatalf("alert events = %d, want one naming event %s", len(evs), e.ID)
		}
	})
}

// TestTenantWebhookRefused: a tenant's alert webhook to a name that
// resolves to a loopback address is refused at connect time when no
// network is allowed; the receiver never sees it.
func TestTenantWebhookRefused(t *testing.T) {
	teststore.ForEach(t, func(t *testing.T, s trail.Store) {
		h := newHarness(t, s)
		h.allow = nil
		rc := newReceiver(t)
		port := rc.srv.URL[strings.LastIndex(rc.srv.URL, ":"):]
		r := h.rule(threshold("http://localhost" + port + "/alerts"))
		h.start()
		for range 5 {
			h.emit("login.failure", "u1")
		}
		testenv.Eventually(t, 10*time.Second, "a refused attempt", func() bool {
			fs, err := h.store.AlertFirings(context.Background(), r.ID, 10)
			return err == nil && len(fs) == 1 && strings.Contains(fs[0].LastError, "refused (loopback)")
		})
		if bodies, _ := rc.received(); len(bodies) != 0 {
			t.Errorf("the receiver got %d webhooks", len(bodies))
		}
	})
}
