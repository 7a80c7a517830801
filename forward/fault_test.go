package forward_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/forward"
	"github.com/trailhq/trail/internal/pgtest"
	"github.com/trailhq/trail/internal/testenv"
	"github.com/trailhq/trail/postgres"
)

// TestReceiverDownThenUp: while nothing listens at the receiver's address
// the forwarder retries; once a receiver listens there, every event
// arrives, in order, and nothing went to the dead-letter list.
func TestReceiverDownThenUp(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // down: connections are refused

	s := MustOpenStore(t)
	MustCreate(t, s, &trail.Forwarder{Name: "down", Kind: trail.ForwarderWebhook, URI: "http://" + addr,
		Retry: trail.RetryConfig{MaxAttempts: 1000, MinBackoff: trail.Duration(5 * time.Millisecond),
			MaxBackoff: trail.Duration(30 * time.Millisecond)}})
	reg := StartManager(t, s, "node-1")
	evs := MustAppend(t, s, "acme", "a.one", "a.two", "a.three")
	testenv.Eventually(t, 15*time.Second, "the forwarder to retry", func() bool {
		st := status(t, s, "", "down")
		return st.State != trail.ForwarderActive && st.Attempts >= 3
	})
	if st := status(t, s, "", "down"); !strings.Contains(st.LastError, "connection refused") {
		t.Errorf("last_error %q, want the connection error", st.LastError)
	}

	up := &Receiver{}
	l, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen again on %s: %v", addr, err)
	}
	up.Server = httptest.NewUnstartedServer(http.HandlerFunc(up.serve))
	up.Server.Listener = l
	up.Start()
	t.Cleanup(up.Close)

	testenv.Eventually(t, 15*time.Second, "every event once the receiver is up", func() bool { return len(up.Requests()) >= 3 })
	var got []string
	for _, r := range up.Requests() {
		got = append(got, eventIDs(t, r.Body)...)
	}
	if !slices.Equal(got, ids(evs)) {
		t.Errorf("delivered %v, want %v in order", got, ids(evs))
	}
	testenv.Eventually(t, 15*time.Second, "state active", func() bool { return status(t, s, "", "down").State == trail.ForwarderActive })
	if n := metricValue(t, reg, "trail_forwarder_retries_total", "", "down"); n < 2 {
		t.Errorf("retries metric = %v, want at least 2", n)
	}
	if dls := deadLetters(t, s, "down"); len(dls) != 0 {
		t.Errorf("dead letters %v, want none", dls)
	}
}

// TestSlowReceiver: a receiver slower than the timeout counts as a failed
// attempt; the retry carries the same webhook-id.
func TestSlowReceiver(t *testing.T) {
	rc := NewReceiver(t, func(n int, r *http.Request, _ []byte) int {
		if n <= 2 {
			<-r.Context().Done() // answers only after the forwarder gave up
		}
		return http.StatusOK
	})
	s := MustOpenStore(t)
	MustCreate(t, s, &trail.Forwarder{Name: "slow", Kind: trail.ForwarderWebhook, URI: rc.URL,
		Timeout: trail.Duration(100 * time.Millisecond), Retry: fastRetry})
	ev := MustAppend(t, s, "acme", "a.one")[0]
	StartManager(t, s, "node-1")

	testenv.Eventually(t, 15*time.Second, "delivery after two timeouts", func() bool {
		return status(t, s, "", "slow").Cursor == ev.Pos
	})
	reqs := rc.Requests()
	if len(reqs) != 3 {
		t.Fatalf("got %d requests, want 3: two timed out, one answered", len(reqs))
	}
	for i, r := range reqs {
		if got := r.Header.Get("webhook-id"); got != ev.ID {
			t.Errorf("attempt %d: webhook-id %s, want %s on every attempt", i+1, got, ev.ID)
		}
	}
	if dls := deadLetters(t, s, "slow"); len(dls) != 0 {
		t.Errorf("dead letters %v, want none", dls)
	}
}

// TestClientVersusServerErrors: a 4xx answer is final, so its event goes
// to the dead-letter list after one attempt; a 5xx answer is retried, and
// after the last attempt its event goes there too. Replaying them later
// delivers them with their original webhook-ids.
func TestClientVersusServerErrors(t *testing.T) {
	var healed atomic.Bool
	var flaky atomic.Int32
	rc := NewReceiver(t, func(n int, r *http.Request, body []byte) int {
		if healed.Load() {
			return http.StatusOK
		}
		var e trail.Event
		json.Unmarshal(body, &e)
		switch e.Action {
		case "bad.request":
			return http.StatusBadRequest
		case "flaky.receiver":
			if flaky.Add(1) <= 2 {
				return http.StatusServiceUnavailable
			}
			return http.StatusOK
		case "broken.receiver":
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	s := MustOpenStore(t)
	MustCreate(t, s, &trail.Forwarder{Name: "picky", Kind: trail.ForwarderWebhook, URI: rc.URL, Retry: fastRetry})
	reg := StartManager(t, s, "node-1")
	evs := MustAppend(t, s, "acme", "bad.request", "flaky.receiver", "broken.receiver", "fine.event")

	testenv.Eventually(t, 15*time.Second, "the cursor to pass every event", func() bool { return status(t, s, "", "picky").Cursor == evs[3].Pos })
	attempts := map[string]int{}
	for _, r := range rc.Requests() {
		attempts[r.Header.Get("webhook-id")]++
	}
	for i, want := range []int{1, 3, 3, 1} {
		if got := attempts[evs[i].ID]; got != want {
			t.Errorf("%s: %d attempts, want %d", evs[i].Action, got, want)
		}
	}
	dls := deadLetters(t, s, "picky")
	if got, want := dlIDs(dls), []string{evs[0].ID, evs[2].ID}; !slices.Equal(got, want) {
		t.Fatalf("dead letters %v, want the 400 and the 500 events %v", got, want)
	}
	if dls[0].Attempts != 1 || dls[1].Attempts != 3 || !strings.Contains(dls[1].Error, "500") {
		t.Errorf("dead letters %+v %+v, want 1 attempt for the 400 and 3 ending in 500", dls[0], dls[1])
	}
	if got := metricValue(t, reg, "trail_forwarder_failed_events_total", "", "picky"); got != 2 {
		t.Errorf("failed metric %v, want 2", got)
	}
	if got := metricValue(t, reg, "trail_forwarder_delivered_events_total", "", "picky"); got != 2 {
		t.Errorf("delivered metric %v, want 2", got)
	}

	healed.Store(true)
	before := len(rc.Requests())
	n, err := s.ReplayDeadLetters(context.Background(), forwarderID(t, s, "picky"), nil)
	if err != nil || n != 2 {
		t.Fatalf("replay = %d, %v; want 2", n, err)
	}
	testenv.Eventually(t, 15*time.Second, "the dead-letter list to empty", func() bool { return len(deadLetters(t, s, "picky")) == 0 })
	var replayed []string
	for _, r := range rc.Requests()[before:] {
		replayed = append(replayed, r.Header.Get("webhook-id"))
	}
	if want := []string{evs[0].ID, evs[2].ID}; !slices.Equal(replayed, want) {
		t.Errorf("replayed webhook-ids %v, want the original ids %v", replayed, want)
	}
}

// TestLeaseHandover: two managers on one store deliver each event once;
// when the driving node stops, the other takes over from its cursor.
func TestLeaseHandover(t *testing.T) {
	s := MustOpenStore(t)
	rc := NewReceiver(t, nil)
	MustCreate(t, s, &trail.Forwarder{Name: "shared", Kind: trail.ForwarderWebhook, URI: rc.URL})
	stopA := RunManager(t, testConfig(s, "node-a"))
	first := MustAppend(t, s, "acme", "a.one", "a.two", "a.three")
	testenv.Eventually(t, 15*time.Second, "node a to deliver", func() bool { return len(rc.Requests()) == 3 })
	stopB := RunManager(t, testConfig(s, "node-b"))
	defer stopB()
	stopA()
	second := MustAppend(t, s, "acme", "b.one", "b.two")
	testenv.Eventually(t, 15*time.Second, "node b to deliver", func() bool { return len(rc.Requests()) >= 5 })
	var got []string
	for _, r := range rc.Requests() {
		got = append(got, eventIDs(t, r.Body)...)
	}
	if want := append(ids(first), ids(second)...); !slices.Equal(got, want) {
		t.Errorf("delivered %v, want each event once, in order: %v", got, want)
	}
}

// TestStopMidDelivery: a graceful stop while a request is in flight waits
// for its answer and saves the acknowledgement before the lease is
// released, so the next node does not send the event again.
func TestStopMidDelivery(t *testing.T) {
	s := MustOpenStore(t)
	arrived, answer := make(chan struct{}), make(chan struct{})
	rc := NewReceiver(t, func(n int, _ *http.Request, _ []byte) int {
		if n == 1 {
			close(arrived)
			<-answer
		}
		return http.StatusOK
	})
	MustCreate(t, s, &trail.Forwarder{Name: "shared", Kind: trail.ForwarderWebhook, URI: rc.URL})
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		forward.New(testConfig(s, "node-a")).Run(ctx)
	}()
	evs := MustAppend(t, s, "acme", "a.one")
	<-arrived
	cancel() // the stop begins while the receiver holds the request
	close(answer)
	<-stopped
	if got := status(t, s, "", "shared").Cursor; got != evs[0].Pos {
		t.Fatalf("cursor after the stop = %d, want the delivered event's Pos %d", got, evs[0].Pos)
	}
	StartManager(t, s, "node-b")
	later := MustAppend(t, s, "acme", "b.one")
	testenv.Eventually(t, 15*time.Second, "node b to deliver", func() bool { return len(rc.Requests()) >= 2 })
	var got []string
	for _, r := range rc.Requests() {
		got = append(got, eventIDs(t, r.Body)...)
	}
	if want := append(ids(evs), ids(later)...); !slices.Equal(got, want) {
		t.Errorf("delivered %v, want each event once: %v", got, want)
	}
}

// TestTwoPostgresNodes: two nodes on one PostgreSQL database, each with
// its own connection pool and manager, deliver each event once and in
// order while both run, and the second carries on when the first stops.
func TestTwoPostgresNodes(t *testing.T) {
	dsn := pgtest.NewDB(t)
	node := func() *postgres.DB {
		db, err := postgres.Open(dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	a, b := node(), node()
	rc := NewReceiver(t, nil)
	MustCreate(t, a, &trail.Forwarder{Name: "shared", Kind: trail.ForwarderWebhook, URI: rc.URL})
	stopA := RunManager(t, testConfig(a, "node-a"))
	stopB := RunManager(t, testConfig(b, "node-b"))
	defer stopB()
	var want []string
	for i := range 5 {
		store := []*postgres.DB{a, b}[i%2]
		want = append(want, ids(MustAppend(t, store, "acme", "a.one", "a.two", "a.three"))...)
	}
	testenv.Eventually(t, 15*time.Second, "15 deliveries", func() bool { return len(rc.Requests()) >= 15 })
	stopA()
	want = append(want, ids(MustAppend(t, b, "acme", "b.one", "b.two"))...)
	testenv.Eventually(t, 15*time.Second, "17 deliveries", func() bool { return len(rc.Requests()) >= 17 })
	var got []string
	for _, r := range rc.Requests() {
		got = append(got, eventIDs(t, r.Body)...)
	}
	if !slices.Equal(got, want) {
		t.Errorf("delivered %d events %v,\nwant each of %d once, in order: %v", len(got), got, len(want), want)
	}
}

func deadLetters(tb testing.TB, s forward.Store, name string) []*trail.DeadLetter {
	tb.Helper()
	dls, err := s.DeadLetters(context.Background(), forwarderID(tb, s, name), trail.DeadLetterQuery{})
	if err != nil {
		tb.Fatalf("list dead letters: %v", err)
	}
	return dls
}

func dlIDs(dls []*trail.DeadLetter) []string {
	var out []string
	for _, d := range dls {
		out = append(out, d.EventID)
	}
	return out
}

func forwarderID(tb testing.TB, s forward.Store, name string) string {
	tb.Helper()
	f, err := s.Forwarder(context.Background(), "", name)
	if err != nil {
		tb.Fatalf("read forwarder %s: %v", name, err)
	}
	return f.ID
}
