package forward_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/trailhq/trail"
	"github.com/trailhq/trail/forward"
	"github.com/trailhq/trail/internal/teststore"
)

// fastRetry keeps fault tests quick: three attempts 10 to 40 ms apart.
var fastRetry = trail.RetryConfig{
	MaxAttempts: 3,
	MinBackoff:  trail.Duration(10 * time.Millisecond),
	MaxBackoff:  trail.Duration(40 * time.Millisecond),
}

// configActor is the actor of the tests' config file changes.
var configActor = trail.Actor{Type: trail.ActorSystem, ID: "config", Name: "config file trail.yaml"}

// MustOpenStore opens a fresh SQLite store for the test.
func MustOpenStore(tb testing.TB) forward.Store {
	tb.Helper()
	return teststore.SQLite(tb)
}

// MustAppend stores one event per action for tenant and returns them with
// their positions.
func MustAppend(tb testing.TB, s trail.EventStore, tenant string, actions ...string) []*trail.Event {
	tb.Helper()
	evs := make([]*trail.Event, len(actions))
	for i, a := range actions {
		evs[i] = trail.NewSystemEvent(tenant, a, trail.Actor{Type: trail.ActorUser, ID: "u1"},
			trail.Context{IP: "192.0.2.1"}, time.Now(), trail.Target{Type: "doc", ID: "d1"})
	}
	if err := s.AppendBatches(context.Background(), []*trail.Batch{{Events: evs}}); err != nil {
		tb.Fatalf("append events: %v", err)
	}
	return evs
}

// MustCreate stores forwarder f.
func MustCreate(tb testing.TB, s forward.Store, f *trail.Forwarder) *trail.Forwarder {
	tb.Helper()
	if err := forward.Create(context.Background(), s, f, time.Now()); err != nil {
		tb.Fatalf("create forwarder: %v", err)
	}
	return f
}

// testConfig is a Manager config with short intervals, for tests. Its
// tenants' forwarders may reach the loopback receivers of tests.
func testConfig(s forward.Store, holder string) forward.Config {
	return forward.Config{
		Store: s, Holder: holder, Registry: prometheus.NewRegistry(),
		Poll: 20 * time.Millisecond, Refresh: 50 * time.Millisecond,
		LeaseTTL: 600 * time.Millisecond, Checkpoint: 50 * time.Millisecond,
		AllowNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")},
	}
}

// StartManager runs a Manager over s with short intervals until the test
// ends, and returns its metrics registry.
func StartManager(tb testing.TB, s forward.Store, holder string) *prometheus.Registry {
	tb.Helper()
	cfg := testConfig(s, holder)
	stop := RunManager(tb, cfg)
	tb.Cleanup(stop)
	return cfg.Registry.(*prometheus.Registry)
}

// RunManager runs a Manager for cfg and returns a func that stops it and
// waits until it stopped.
func RunManager(tb testing.TB, cfg forward.Config) (stop func()) {
	tb.Helper()
	m := forward.New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// metricValue returns the value of the forwarder metric name for the
// forwarder (tenant, fname), 0 when it has none.
func metricValue(tb testing.TB, reg *prometheus.Registry, name, tenant, fname string) float64 {
	tb.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		tb.Fatalf("gather metrics: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["tenant"] == tenant && labels["name"] == fname {
				return m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return 0
}

// request is one request a test receiver got.
type request struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// Receiver is an HTTP receiver that records every request and answers
// with the status its Answer function returns (200 when nil).
type Receiver struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []request
	answer func(n int, r *http.Request, body []byte) int
}

// NewReceiver starts a Receiver; answer picks the status of the n-th
// request (from 1) from the request and its body; nil means always 200.
func NewReceiver(tb testing.TB, answer func(n int, r *http.Request, body []byte) int) *Receiver {
	tb.Helper()
	rc := &Receiver{answer: answer}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.serve))
	tb.Cleanup(rc.Close)
	return rc
}

func (rc *Receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, request{r.Method, r.URL.Path, r.Header.Clone(), body})
	n, answer := len(rc.reqs), rc.answer
	rc.mu.Unlock()
	status := http.StatusOK
	if answer != nil {
		status = answer(n, r, body)
	}
	w.WriteHeader(status)
}

// Requests returns a copy of the requests so far.
func (rc *Receiver) Requests() []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]request(nil), rc.reqs...)
}

// eventIDs returns the ids of the events in a webhook body: one event
// object or an array of them.
func eventIDs(tb testing.TB, body []byte) []string {
	tb.Helper()
	var one trail.Event
	if err := json.Unmarshal(body, &one); err == nil && one.ID != "" {
		return []string{one.ID}
	}
	var many []trail.Event
	if err := json.Unmarshal(body, &many); err != nil {
		tb.Fatalf("body is neither an event nor an array of events: %v: %s", err, body)
	}
	ids := make([]string, len(many))
	for i, e := range many {
		ids[i] = e.ID
	}
	return ids
}

func ids(evs []*trail.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

// status returns forwarder name's stored status.
func status(tb testing.TB, s forward.Store, tenant, name string) *trail.ForwarderStatus {
	tb.Helper()
	f, err := s.Forwarder(context.Background(), tenant, name)
	if err != nil {
		tb.Fatalf("read forwarder %s: %v", name, err)
	}
	return f.Status
}
