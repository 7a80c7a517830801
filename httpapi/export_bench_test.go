package httpapi_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/teststore"
)

// benchEvents is how many events BenchmarkExport stores: several export
// chunks, few enough to load in seconds.
const benchEvents = 100_000

// fillBench appends n realistic events of about 500 bytes of JSON, in
// batches like the writer's.
func fillBench(tb testing.TB, s trail.Store, n int) {
	tb.Helper()
	t0 := time.Now().Add(-24 * time.Hour).UTC()
	for first := 0; first < n; first += 1000 {
		events := make([]*trail.Event, 0, 1000)
		for i := first; i < min(first+1000, n); i++ {
			at := t0.Add(time.Duration(i) * time.Millisecond)
			events = append(events, &trail.Event{
				ID: trail.NewID(at), Tenant: fmt.Sprintf("tenant%02d", i%10), Action: "project.settings.updated",
				OccurredAt: at, ReceivedAt: at, Version: 1, TraceID: fmt.Sprintf("%032x", i),
				Actor: trail.Actor{Type: "user", ID: fmt.Sprintf("user_%05d", i%5000),
					Name: fmt.Sprintf("User Number %d", i%5000), Metadata: json.RawMessage(`{"role":"admin"}`)},
				Targets: []trail.Target{{Type: "project", ID: fmt.Sprintf("proj_%05d", i%20000),
					Name: fmt.Sprintf("Project %d", i%20000)}},
				Context: trail.Context{IP: fmt.Sprintf("10.%d.%d.%d", i%256, i/256%256, i/65536%256),
					UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36",
					Location:  "Berlin, DE"},
				Metadata: json.RawMessage(fmt.Sprintf(
					`{"request_id":"req_%016x","plan":"enterprise","changes":{"before":"viewer","after":"editor"}}`, i)),
			})
		}
		if err := s.AppendBatches(tb.Context(), []*trail.Batch{{Events: events}}); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkExport downloads every stored event over HTTP, as trail bench's
// export step does; events/s is the figure to watch.
func BenchmarkExport(b *testing.B) {
	for _, format := range []string{"csv", "jsonl"} {
		b.Run(format, func(b *testing.B) {
			e := newEnv(b, teststore.SQLite(b))
			fillBench(b, e.store, benchEvents)
			reader := e.newKey(b, "", true, trail.ScopeEventsRead)
			b.ResetTimer()
			for b.Loop() {
				if n := exportLines(b, e, reader, format); n < benchEvents {
					b.Fatalf("export has %d lines, want at least %d", n, benchEvents)
				}
			}
			b.ReportMetric(float64(b.N*benchEvents)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// exportLines downloads an export and counts its lines without keeping it.
func exportLines(tb testing.TB, e *env, secret, format string) int {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), "GET", e.srv.URL+"/v1/events/export?format="+format, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		tb.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	n := 0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		n++
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return n
}
