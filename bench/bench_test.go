package bench_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail/bench"
	"github.com/trailhq/trail/sqlite"
)

// TestRunSmall runs every benchmark step at a tiny size, so `trail bench`
// keeps working; the real numbers come from `trail bench` itself.
func TestRunSmall(t *testing.T) {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "trail.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	results, err := bench.Run(context.Background(), bench.Config{
		Store: db, RawEvents: 2000, HTTPEvents: 2000, Clients: 4,
		SingleRate: 200, SingleDuration: 200 * time.Millisecond, BurstDuration: 200 * time.Millisecond, Queries: 2,
		WriteTimes: db.WriteTimes,
	})
	if err != nil {
		t.Fatal(err)
	}
	var md strings.Builder
	bench.Markdown(&md, results)
	for _, want := range []string{"store raw ceiling", "HTTP ingest", "HTTP path alone", "single-event", "filtered first page",
		"right after the burst", "writer busy per event", "index lag", "CSV export"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("results lack %q:\n%s", want, md.String())
		}
	}
	// 2000 raw + 2000 over HTTP + 40 single events right after the burst
	// and 40 later, the lag probe's events, and the export's own
	// export.downloaded event, recorded before the first row is sent.
	var probes int
	for _, r := range results {
		if strings.HasPrefix(r.Name, "index lag") {
			fmt.Sscanf(r.Note, "%d probes", &probes)
		}
	}
	if probes == 0 {
		t.Errorf("the lag probe found no event:\n%s", md.String())
	}
	if want := fmt.Sprintf("%d rows", 4081+probes); !strings.Contains(md.String(), want) {
		t.Errorf("export did not see every event:\n%s", md.String())
	}
}
