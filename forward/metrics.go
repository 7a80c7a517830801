package forward

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/trailhq/trail"
)

// metrics are the Prometheus metrics of every forwarder, labelled by the
// forwarder's tenant ("" for operator forwarders) and name.
type metrics struct {
	delivered *prometheus.CounterVec
	failed    *prometheus.CounterVec
	retries   *prometheus.CounterVec
	lag       *prometheus.GaugeVec
}

var forwarderLabels = []string{"tenant", "name"}

func newMetrics(reg prometheus.Registerer) *metrics {
	return &metrics{
		delivered: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trail_forwarder_delivered_events_total",
			Help: "Events a forwarder delivered and its receiver acknowledged.",
		}, forwarderLabels)),
		failed: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trail_forwarder_failed_events_total",
			Help: "Events a forwarder gave up on and put on its dead-letter list.",
		}, forwarderLabels)),
		retries: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trail_forwarder_retries_total",
			Help: "Failed delivery attempts that a forwarder retried.",
		}, forwarderLabels)),
		lag: register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "trail_forwarder_lag_events",
			Help: "Events of the stream that a forwarder has not yet delivered or skipped, on the node driving it.",
		}, forwarderLabels)),
	}
}

// forget drops f's series when it is deleted.
func (m *metrics) forget(f *trail.Forwarder) {
	for _, v := range []*prometheus.MetricVec{m.delivered.MetricVec, m.failed.MetricVec, m.retries.MetricVec, m.lag.MetricVec} {
		v.DeleteLabelValues(f.Tenant, f.Name)
	}
}

// register registers c in reg, or returns the collector already registered
// under the same description, so that a Manager can be made twice with
// one registry.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
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
	panic("forward: register metrics: " + err.Error())
}
