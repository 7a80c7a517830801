package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/trailhq/trail"
	"github.com/trailhq/trail/httpapi"
)

// Config sizes a benchmark run. Zero values take the defaults, which meet
// the "at least 1,000,000 stored events" on a 2-core machine in a
// few minutes.
type Config struct {
	Store          trail.Store // an empty store; the run fills it
	RawEvents      int         // events appended straight into the store (default 1,000,000)
	HTTPEvents     int         // events posted in batches of 100 over HTTP (default 1,000,000)
	Clients        int         // concurrent HTTP clients (default 16)
	SingleRate     int         // single-event requests per second (default 1000)
	SingleDuration time.Duration
	// BurstDuration is how long single events are sent right after the
	// HTTP burst, while the store works off its background work (default 20s).
	BurstDuration time.Duration
	// WriteTimes, if not nil, returns the total time a store with one
	// writer has spent inside its write transactions: commits (and the CPU
	// time they used), and transactions of its own (index maintenance,
	// merges) under a lock of their own.
	WriteTimes func() (commits, commitCPU, background time.Duration)
	Queries    int       // first-page queries per filter (default 300)
	Log        io.Writer // progress lines; nil discards
	// Analyze, if not nil, runs after the export (for PostgreSQL, a manual
	// ANALYZE); the first pages and the export are then measured again,
	// so that one run shows both: right after ingest, and with fresh
	// statistics.
	Analyze func(context.Context) error
	// ExportTarget is the export rate the store is held to, for the
	// table (default ">= 200,000 events/s", SQLite's).
	ExportTarget string
}

func (c *Config) defaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.RawEvents, 1_000_000)
	def(&c.HTTPEvents, 1_000_000)
	def(&c.Clients, 16)
	def(&c.SingleRate, 1000)
	def(&c.Queries, 300)
	if c.SingleDuration <= 0 {
		c.SingleDuration = 10 * time.Second
	}
	if c.BurstDuration <= 0 {
		c.BurstDuration = 20 * time.Second
	}
	if c.ExportTarget == "" {
		c.ExportTarget = ">= 200,000 events/s"
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
}

// Result is one measured figure.
type Result struct {
	Name   string
	Value  string
	Target string // the target, if it sets one
	Note   string
}

// Run measures, in order: the store's raw append ceiling, HTTP batch ingest
// with concurrent clients (while the store grows past 1M events; with the
// writer's busy time per event and the index lag), single events and first
// pages right after that burst, the HTTP path alone, single-event latency
// at a fixed request rate on a calm store, filtered first-page query
// latency, and CSV export rate with heap use.
func Run(ctx context.Context, cfg Config) ([]Result, error) {
	cfg.defaults()
	r := &runner{cfg: cfg, gen: newGen(1)}
	defer r.close()
	if err := r.start(); err != nil {
		return nil, err
	}
	steps := []func(context.Context) error{r.raw, r.httpBatches, r.afterBurst, r.httpPath, r.single, r.queries, r.export}
	if cfg.Analyze != nil {
		steps = append(steps, r.analyze, r.queries, r.export)
	}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return r.results, err
		}
	}
	return r.results, nil
}

type runner struct {
	cfg      Config
	suffix   string // added to the names of measures taken after Analyze
	gen      *gen
	writer   *trail.Writer
	srv      *http.Server
	url      string
	platform string // secret of a platform key with every scope
	tenant   string // secret of a tenant0 reader key
	next     int    // number of the next generated event
	rawRate  float64
	bodies   []body // the request bodies of httpBatches
	busy     writeBusy
	quietP99 time.Duration
	burstP99 time.Duration // single events right after the burst
	results  []Result
}

func (r *runner) start() error {
	reg := prometheus.NewRegistry()
	metrics := httpapi.NewMetrics(reg)
	r.writer = trail.NewWriter(r.cfg.Store, 5000, func(st trail.CommitStats) {
		metrics.ObserveCommit(st)
		r.busy.observe(st)
	})
	api := httpapi.New(httpapi.Config{Store: r.cfg.Store, Writer: r.writer, Registry: reg,
		Logger: slog.New(slog.DiscardHandler)})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	r.url = "http://" + ln.Addr().String()
	r.srv = &http.Server{Handler: api.Handler()}
	go r.srv.Serve(ln)
	if r.platform, err = r.createKey("", true); err != nil {
		return err
	}
	r.tenant, err = r.createKey(Tenant(0), false)
	return err
}

func (r *runner) createKey(tenant string, platform bool) (string, error) {
	k, secret, err := trail.NewAPIKey("bench", tenant, platform,
		[]string{trail.ScopeAdmin}, time.Time{}, time.Now())
	if err != nil {
		return "", err
	}
	return secret, r.cfg.Store.CreateKey(context.Background(), k)
}

func (r *runner) close() {
	if r.srv != nil {
		r.srv.Close()
	}
	if r.writer != nil {
		r.writer.Close()
	}
}

// analyze runs cfg.Analyze and marks the measures that follow.
func (r *runner) analyze(ctx context.Context) error {
	start := time.Now()
	if err := r.cfg.Analyze(ctx); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	r.add("manual ANALYZE", time.Since(start).Round(time.Millisecond).String(), "", "")
	r.suffix = " (after ANALYZE)"
	return nil
}

func (r *runner) add(name, value, target, note string) {
	if r.suffix != "" && name != "manual ANALYZE" {
		name += r.suffix
	}
	r.results = append(r.results, Result{name, value, target, note})
	fmt.Fprintf(r.cfg.Log, "%-45s %s\n", name, value)
}

// percentile returns the p-th percentile (0..100) of ds, sorting it.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(float64(len(ds)-1) * p / 100)
	return ds[i]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func rate(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }

// Markdown writes results as a table for docs/benchmarks.md.
func Markdown(w io.Writer, results []Result) {
	fmt.Fprintln(w, "| measure | result | target | note |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, r := range results {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", r.Name, r.Value, r.Target, r.Note)
	}
}
