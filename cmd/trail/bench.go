package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/trailhq/trail/bench"
	"github.com/trailhq/trail/postgres"
	"github.com/trailhq/trail/sqlite"
)

// runBench measures ingest, query and export in one run on a fresh store
// and prints a Markdown table for docs/benchmarks.md.
func runBench(ctx context.Context, env *Env, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	var cfg bench.Config
	data := fs.String("data", "", "folder for the benchmark's SQLite store (default: a new temporary folder, removed after)")
	fs.IntVar(&cfg.RawEvents, "raw-events", 1_000_000, "events appended straight into the store")
	fs.IntVar(&cfg.HTTPEvents, "http-events", 1_000_000, "events posted over HTTP in batches of 100")
	fs.IntVar(&cfg.Clients, "clients", 16, "concurrent HTTP clients")
	fs.IntVar(&cfg.SingleRate, "single-rate", 1000, "single-event requests per second")
	fs.DurationVar(&cfg.SingleDuration, "single-duration", 10*time.Second, "how long to send single events")
	fs.DurationVar(&cfg.BurstDuration, "burst-duration", 20*time.Second, "how long to send single events right after the HTTP burst")
	fs.IntVar(&cfg.Queries, "queries", 300, "first-page queries per filter")
	search := fs.Bool("search-index", true, "keep the SQLite store's full-text index (as trail serve does by default); false measures ingest without it")
	store := fs.String("store", "", "PostgreSQL `URL` of an empty database to run on instead of SQLite; the first pages and the export are measured again after a manual ANALYZE")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *store != "" {
		return benchPostgres(ctx, env, cfg, *store)
	}
	dir := *data
	if dir == "" {
		tmp, err := os.MkdirTemp("", "trail-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	db, err := sqlite.OpenOptions(DBPath(dir), sqlite.Options{NoSearchIndex: !*search})
	if err != nil {
		return err
	}
	defer db.Close()
	cfg.Store, cfg.Log, cfg.WriteTimes = db, env.Stderr, db.WriteTimes
	fmt.Fprintf(env.Stderr, "trail bench: store sqlite in %s, full-text index %v\n", dir, *search)
	results, err := bench.Run(ctx, cfg)
	bench.Markdown(env.Stdout, results)
	return err
}

// benchPostgres runs the benchmark on the empty PostgreSQL database at
// dsn, with a manual ANALYZE after the export and the first pages and
// export measured again.
func benchPostgres(ctx context.Context, env *Env, cfg bench.Config, dsn string) error {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return usageErrorf("--store: must be a postgres:// URL")
	}
	db, err := postgres.Open(dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	var n int64
	if err := db.Pool().QueryRow(ctx, "SELECT count(*) FROM (SELECT 1 FROM events LIMIT 1) e").Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return usageErrorf("--store: the database holds events; the benchmark needs an empty one")
	}
	cfg.Store, cfg.Log = db, env.Stderr
	cfg.ExportTarget = ">= 100,000 events/s" // issue 18's, for PostgreSQL
	cfg.Analyze = func(ctx context.Context) error {
		_, err := db.Pool().Exec(ctx, "ANALYZE")
		return err
	}
	fmt.Fprintf(env.Stderr, "trail bench: store postgres\n")
	results, err := bench.Run(ctx, cfg)
	bench.Markdown(env.Stdout, results)
	return err
}
