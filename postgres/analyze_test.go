package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/pgtest"
	"github.com/trailhq/trail/postgres"
)

// TestAnalyzeAfterAppends checks that Trail analyzes the current month's
// partitions and the partitioned parent itself once enough events were
// appended: autovacuum never analyzes a parent, and analyzes a partition
// only after a tenth of its rows changed.
func TestAnalyzeAfterAppends(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t, pgtest.NewDB(t))
	db.SetAnalyzeAfter(200)
	now := time.Now()
	var evs []*trail.Event
	for i := range 150 {
		evs = append(evs, event("acme", now.Add(-time.Duration(i)*time.Second)))
	}
	if err := db.AppendBatches(ctx, []*trail.Batch{{Events: evs}}); err != nil {
		t.Fatal(err)
	}
	t.Run("NotBeforeThreshold", func(t *testing.T) {
		// 150 events are below the threshold.
		if got := parentStats(t, db); got != 0 {
			t.Fatalf("parent has %d statistics rows before the threshold, want 0", got)
		}
	})
	var more []*trail.Event
	for i := range 100 {
		more = append(more, event("acme", now.Add(-time.Duration(200+i)*time.Second)))
	}
	if err := db.AppendBatches(ctx, []*trail.Batch{{Events: more}}); err != nil {
		t.Fatal(err)
	}
	t.Run("AfterThreshold", func(t *testing.T) {
		deadline := time.Now().Add(30 * time.Second)
		for parentStats(t, db) == 0 || partitionAnalyzed(t, db, now) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("events and its current partition were not analyzed within 30 s")
			}
			time.Sleep(20 * time.Millisecond) // polling, not synchronisation
		}
	})
}

// parentStats counts the statistics rows of the partitioned table events
// as a whole (only an ANALYZE of the parent makes them).
func parentStats(t *testing.T, db *postgres.DB) int {
	t.Helper()
	var n int
	err := db.Pool().QueryRow(context.Background(),
		"SELECT count(*) FROM pg_statistic WHERE starelid = 'events'::regclass AND stainherit").Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// partitionAnalyzed returns how often the partition of now's month was
// analyzed by hand (ANALYZE), not by autovacuum.
func partitionAnalyzed(t *testing.T, db *postgres.DB, now time.Time) int {
	t.Helper()
	var n int
	err := db.Pool().QueryRow(context.Background(),
		"SELECT analyze_count FROM pg_stat_user_tables WHERE relname = $1",
		postgres.PartitionName("events", now)).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
