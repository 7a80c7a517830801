package main_test

import (
	"strings"
	"testing"

	"github.com/trailhq/trail/internal/pgtest"
)

// TestBenchPostgres runs `trail bench --store postgres://...` at a tiny
// size: every step of the SQLite bench (with the figures right after the
// HTTP burst, the writer's busy time and the index lag), then a manual ANALYZE and the first
// pages and export again; a database that already holds events is refused.
func TestBenchPostgres(t *testing.T) {
	dsn := pgtest.NewDB(t)
	args := []string{"bench", "--store", dsn, "--raw-events", "1000", "--http-events", "1000", "--clients", "2",
		"--single-rate", "100", "--single-duration", "200ms", "--burst-duration", "200ms", "--queries", "2"}
	r := runCLI(t, nil, false, args...)
	if r.code != 0 {
		t.Fatalf("bench: exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"store raw ceiling", "HTTP ingest", "single-event", "query: target type + action |",
		"writer busy per event", "index lag during the burst", "right after the burst |", "filtered first page, right after the burst",
		"CSV export, every event |", "manual ANALYZE", "query: target type + action (after ANALYZE)",
		"CSV export, every event (after ANALYZE)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	t.Run("ErrNotEmpty", func(t *testing.T) {
		r := runCLI(t, nil, false, args...)
		if r.code == 0 || !strings.Contains(r.stderr, "holds events") {
			t.Errorf("bench on a used database: exit %d, stderr %q", r.code, r.stderr)
		}
	})
}
