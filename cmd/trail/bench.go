package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/trailhq/trail/bench"
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
	fs.IntVar(&cfg.Queries, "queries", 300, "first-page queries per filter")
	if _, err := parseFlags(fs, args); err != nil {
		return err
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
	db, err := sqlite.Open(DBPath(dir))
	if err != nil {
		return err
	}
	defer db.Close()
	cfg.Store, cfg.Log = db, env.Stderr
	fmt.Fprintf(env.Stderr, "trail bench: store sqlite in %s\n", dir)
	results, err := bench.Run(ctx, cfg)
	bench.Markdown(env.Stdout, results)
	return err
}
