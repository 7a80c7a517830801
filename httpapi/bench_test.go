package httpapi_test

import (
	"testing"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/teststore"
)

// BenchmarkIngest posts batches of 100 events from parallel clients to a
// real server over a SQLite store; events/s is the figure to watch.
func BenchmarkIngest(b *testing.B) {
	e := newEnv(b, teststore.SQLite(b))
	writer := e.newKey(b, "acme", false, trail.ScopeEventsWrite)
	events := make([]string, 100)
	for i := range events {
		events[i] = event("user.created", "targets", `[{"type":"user","id":"u2"}]`,
			"context", `{"ip":"10.0.0.1","user_agent":"bench"}`, "metadata", `{"plan":"pro"}`)
	}
	body := batch(events...)
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			e.do(b, "POST", "/v1/events", writer, body).want(b, 201)
		}
	})
	b.ReportMetric(float64(b.N*len(events))/b.Elapsed().Seconds(), "events/s")
}
