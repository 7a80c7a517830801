package httpapi

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/trailhq/trail"
)

// healthCollector exports a StoreHealth as metrics. Registering it in a
// registry is how the Writer's ObserveCommit and the Server made over the
// same registry share one StoreHealth (see NewMetrics).
type healthCollector struct {
	health  *trail.StoreHealth
	healthy *prometheus.Desc
	faults  *prometheus.Desc
}

func newHealthCollector() *healthCollector {
	return &healthCollector{
		health: &trail.StoreHealth{},
		healthy: prometheus.NewDesc("trail_store_healthy",
			"1 while the store takes writes, 0 after a storage fault (full, read-only, unavailable) until a write succeeds again.",
			nil, nil),
		faults: prometheus.NewDesc("trail_store_errors_total",
			"Failed store writes caused by the storage, by reason (the error code: storage_full, storage_read_only, unavailable).",
			[]string{"reason"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *healthCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.healthy
	ch <- c.faults
}

// Collect implements prometheus.Collector.
func (c *healthCollector) Collect(ch chan<- prometheus.Metric) {
	v := 1.0
	if c.health.Err() != nil {
		v = 0
	}
	ch <- prometheus.MustNewConstMetric(c.healthy, prometheus.GaugeValue, v)
	for _, reason := range []string{trail.ESTORAGEFULL, trail.ESTORAGEREADONLY, trail.EUNAVAILABLE} {
		n := c.health.Faults()[reason]
		ch <- prometheus.MustNewConstMetric(c.faults, prometheus.CounterValue, float64(n), reason)
	}
}
