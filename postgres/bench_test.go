package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/bench"
	"github.com/trailhq/trail/internal/pgtest"
	"github.com/trailhq/trail/postgres"
)

// BenchmarkHarness measures the PostgreSQL store on a durable throwaway
// server (fsync on) in two parts, and prints Markdown for
// docs/benchmarks.md:
//
//  1. The core benchmark harness (package bench) on an empty store: raw
//     append ceiling (COPY) against HTTP batch ingest, single-event
//     latency, filtered first pages and CSV export.
//  2. On a second database, 10,000,000 generated events loaded with COPY,
//     then, on a store opened afresh on it, the harness's filters as
//     first-page queries, an export of the first 500,000 events, and the
//     query plans of the main filters.
//
// Run it alone, once:
//
//	go test -run '^$' -bench Harness -benchtime 1x -timeout 3h ./postgres/ > pg-bench.md
//
// TRAIL_BENCH_PRELOAD, TRAIL_BENCH_RAW and TRAIL_BENCH_HTTP size the run;
// TRAIL_BENCH_SKIP_HARNESS=1 runs the second part only.
func BenchmarkHarness(b *testing.B) {
	srv, err := pgtest.NewServer(pgtest.Options{Durable: true, Settings: map[string]string{
		"shared_buffers": "2GB", "max_wal_size": "8GB", "checkpoint_timeout": "15min",
		"effective_cache_size": "12GB", "track_io_timing": "on", "work_mem": "16MB", "maintenance_work_mem": "512MB",
	}})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	for b.Loop() {
		if os.Getenv("TRAIL_BENCH_SKIP_HARNESS") == "" {
			harness(b, openBench(b, srv))
		}
		dsn := srv.NewDB(b)
		n := envInt("TRAIL_BENCH_PRELOAD", 10_000_000)
		took := load(b, dsn, n)
		// Measured as a node that starts on the loaded database: its
		// page connections are planned for today's partitions. The caches
		// are left as the load left them.
		big := openDSN(b, dsn)
		fmt.Printf("\n## At %d events\n\n", n)
		fmt.Printf("Generated and loaded with COPY, then indexed, in %s (%.0f events/s).\n\n",
			took.Round(time.Second), float64(n)/took.Seconds())
		firstPages(b, big)
		exportRate(b, big, 500_000)
		printPlans(b, big)
	}
}

func openBench(b *testing.B, srv *pgtest.Server) *postgres.DB {
	return openDSN(b, srv.NewDB(b))
}

func openDSN(b *testing.B, dsn string) *postgres.DB {
	db, err := postgres.Open(dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// load preloads n events into the database at dsn through a store of its
// own, and returns how long it took.
func load(b *testing.B, dsn string, n int) time.Duration {
	db, err := postgres.Open(dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	took, err := preload(context.Background(), db, n)
	if err != nil {
		b.Fatal(err)
	}
	return took
}

func harness(b *testing.B, db *postgres.DB) {
	results, err := bench.Run(context.Background(), bench.Config{
		Store: db, Log: os.Stderr,
		RawEvents:  envInt("TRAIL_BENCH_RAW", 300_000),
		HTTPEvents: envInt("TRAIL_BENCH_HTTP", 300_000),
	})
	if err != nil {
		b.Fatal(err)
	}
	fmt.Print("## Core harness on an empty store\n\n")
	bench.Markdown(os.Stdout, results)
}

// benchFilters are the core harness's first-page queries (bench/query.go),
// as a tenant key of tenant00 runs them.
func benchFilters(i int) map[string]trail.Query {
	since := time.Now().Add(-30 * 24 * time.Hour).Add(time.Duration(i%20) * 24 * time.Hour).UTC()
	action := benchActions[i%len(benchActions)]
	return map[string]trail.Query{
		"newest page":    {Desc: true},
		"action":         {Actions: []string{action}, Desc: true},
		"action prefix":  {Actions: []string{"user.*"}, Desc: true},
		"actor_id":       {ActorID: fmt.Sprintf("user_%05d", (i*10)%5000), Desc: true},
		"target":         {TargetType: "project", TargetID: fmt.Sprintf("proj_%05d", i%20000), Desc: true},
		"date range":     {Since: since, Until: since.Add(24 * time.Hour), Desc: true},
		"action + range": {Actions: []string{action}, Since: since, Desc: true},
		"sort by action": {Sort: trail.SortAction},
		"page 2":         {Desc: true, After: &trail.Cursor{}},
	}
}

// firstPages runs each filter 300 times on the store and prints p50 and
// p99 of the first page (100 events, decoded).
func firstPages(b *testing.B, db *postgres.DB) {
	ctx := context.Background()
	scope := trail.Scope{Tenant: bench.Tenant(0)}
	first, err := db.Events(ctx, &trail.Query{Scope: scope, Desc: true})
	if err != nil {
		b.Fatal(err)
	}
	lat := map[string][]time.Duration{}
	var all []time.Duration
	for i := range 300 {
		for name, q := range benchFilters(i) {
			q.Scope = scope
			if q.After != nil {
				q.After = first.Next
			}
			start := time.Now()
			if _, err := db.Events(ctx, &q); err != nil {
				b.Fatal(err)
			}
			d := time.Since(start)
			lat[name], all = append(lat[name], d), append(all, d)
		}
	}
	fmt.Println("| first page (store, tenant key, 100 events) | p50 | p99 |")
	fmt.Println("|---|---|---|")
	fmt.Printf("| all filters, %d queries | %s | %s |\n", len(all), pct(all, 50), pct(all, 99))
	for _, name := range slices.Sorted(maps.Keys(lat)) {
		fmt.Printf("| %s | %s | %s |\n", name, pct(lat[name], 50), pct(lat[name], 99))
	}
}

func pct(ds []time.Duration, p float64) string {
	s := slices.Clone(ds)
	slices.Sort(s)
	d := s[int(float64(len(s)-1)*p/100)]
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

var errEnough = errors.New("enough")

// exportRate exports the newest n events of every tenant through
// trail.ExportEvents, as GET /v1/events/export reads them.
func exportRate(b *testing.B, db *postgres.DB, n int) {
	count := 0
	start := time.Now()
	err := trail.ExportEvents(context.Background(), db, trail.Query{Scope: trail.Scope{All: true}, Desc: true},
		func(*trail.Event) error {
			if count++; count == n {
				return errEnough
			}
			return nil
		})
	if err != nil && !errors.Is(err, errEnough) {
		b.Fatal(err)
	}
	took := time.Since(start)
	fmt.Printf("\nExport (store, every tenant, newest first, pages of 1000): %d events in %s, %.0f events/s.\n",
		count, took.Round(time.Millisecond), float64(count)/took.Seconds())
}

// printPlans prints the plan of each main filter, as a tenant key of
// tenant00 runs it, trimmed by trimPlan.
func printPlans(b *testing.B, db *postgres.DB) {
	scope := trail.Scope{Tenant: bench.Tenant(0)}
	day := time.Now().Add(-10 * 24 * time.Hour).UTC().Truncate(24 * time.Hour)
	plans := []struct {
		name string
		q    trail.Query
	}{
		{"newest page", trail.Query{Desc: true}},
		{"action", trail.Query{Actions: []string{"user.created"}, Desc: true}},
		{"action prefix user.*", trail.Query{Actions: []string{"user.*"}, Desc: true}},
		// An actor and a target that firstPages did not read.
		{"actor_id", trail.Query{ActorID: "user_04010", Desc: true}},
		{"target", trail.Query{TargetType: "project", TargetID: "proj_04242", Desc: true}},
		{"date range (one day)", trail.Query{Since: day, Until: day.Add(24 * time.Hour), Desc: true}},
		{"action + since", trail.Query{Actions: []string{"invoice.paid"}, Since: day, Desc: true}},
		{"sort by action", trail.Query{Sort: trail.SortAction}},
		{"platform key, every tenant, newest page", trail.Query{Desc: true}},
	}
	ctx := context.Background()
	fmt.Printf("\n## Query plans at %s\n", storedCount(b, db))
	for i, p := range plans {
		q := p.q
		q.Scope = scope
		if i == len(plans)-1 {
			q.Scope = trail.Scope{All: true}
		}
		plan, err := db.Explain(ctx, &q)
		if err != nil {
			b.Fatal(err)
		}
		fmt.Printf("\n### %s\n\n```\n%s\n```\n", p.name, trimPlan(plan))
	}
}

func storedCount(b *testing.B, db *postgres.DB) string {
	var n int64
	if err := db.Pool().QueryRow(context.Background(), "SELECT count(*) FROM event_ids").Scan(&n); err != nil {
		b.Fatal(err)
	}
	return fmt.Sprintf("%d events", n)
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}
