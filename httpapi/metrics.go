package httpapi

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/trailhq/trail"
)

// Metrics are the Prometheus metrics of the API and of the Writer's commits.
type Metrics struct {
	requests       *prometheus.CounterVec
	latency        *prometheus.HistogramVec
	ingested       prometheus.Counter
	commitEvents   prometheus.Histogram
	commitDuration prometheus.Histogram
	commitErrors   prometheus.Counter
	health         *trail.StoreHealth // fed by ObserveCommit, read by /readyz
}

// NewMetrics registers Trail's metrics, with the Go runtime and process
// collectors, in reg and returns them. Calling it again with the same reg
// returns metrics backed by the same collectors, so cmd wiring can make the
// Metrics for the Writer's onCommit before the Server exists.
func NewMetrics(reg *prometheus.Registry) *Metrics {
	m := &Metrics{
		requests: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trail_http_requests_total",
			Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "status"})),
		latency: register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "trail_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern and status code.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route", "status"})),
		ingested: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "trail_events_ingested_total",
			Help: "Events accepted by POST /v1/events (replays not counted).",
		})),
		commitEvents: register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "trail_commit_batch_events",
			Help:    "Events per group commit of the writer.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 8), // 1 .. 16384
		})),
		commitDuration: register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "trail_commit_duration_seconds",
			Help:    "Duration of one group commit, fsync included.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5, 30},
		})),
		commitErrors: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "trail_commit_errors_total",
			Help: "Group commits that failed.",
		})),
	}
	m.health = register(reg, newHealthCollector()).health
	register(reg, collectors.NewGoCollector())
	register(reg, collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// register registers c in reg, or returns the collector already registered
// under the same description.
func register[C prometheus.Collector](reg *prometheus.Registry, c C) C {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	switch {
	case err == nil:
		return c
	case errors.As(err, &are):
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	panic("httpapi: register metrics: " + err.Error())
}

// ObserveCommit records one group commit; pass it to trail.NewWriter as its
// onCommit.
func (m *Metrics) ObserveCommit(st trail.CommitStats) {
	m.health.Observe(st.Err)
	if st.Err != nil {
		m.commitErrors.Inc()
		return
	}
	m.commitEvents.Observe(float64(st.Events))
	m.commitDuration.Observe(st.Duration.Seconds())
}

func (m *Metrics) observeRequest(route string, status int, d time.Duration) {
	code := strconv.Itoa(status)
	m.requests.WithLabelValues(route, code).Inc()
	m.latency.WithLabelValues(route, code).Observe(d.Seconds())
}

// MetricsHandler serves the metrics to anyone who reaches it: mount it on
// a listener of its own that only the monitoring system can reach.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{})
}

// handleMetrics serves GET /metrics on the API's listener only to a
// request that carries the metrics token, compared in constant time. Any
// other request gets the 404 of a route that does not exist, so the
// listener does not even reveal that metrics could be had.
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) error {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if s.metricsToken == "" || !ok ||
		subtle.ConstantTimeCompare([]byte(token), []byte(s.metricsToken)) != 1 {
		return errNoRoute(r)
	}
	s.MetricsHandler().ServeHTTP(w, r)
	return nil
}
