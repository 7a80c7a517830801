package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trailhq/trail"
)

// raw measures the store's ceiling: batches of 1000 events appended
// straight into the store, with generation kept out of the timing.
func (r *runner) raw(ctx context.Context) error {
	const batch = 1000
	var spent time.Duration
	for done := 0; done < r.cfg.RawEvents; done += batch {
		events, err := r.gen.events(r.next, batch, time.Now())
		if err != nil {
			return err
		}
		r.next += batch
		start := time.Now()
		if err := r.cfg.Store.AppendBatches(ctx, []*trail.Batch{{Events: events}}); err != nil {
			return fmt.Errorf("raw append: %w", err)
		}
		spent += time.Since(start)
	}
	r.rawRate = rate(r.cfg.RawEvents, spent)
	r.add("store raw ceiling (batches of 1000)", fmt.Sprintf("%.0f events/s", r.rawRate), "", "")
	return nil
}

// httpBatches posts batches of 100 from concurrent clients. Bodies are
// encoded before the clock starts, so the load generator's JSON encoding
// does not compete with the server for the two cores; each send only
// copies one and writes its events' times into it (stamp).
func (r *runner) httpBatches(ctx context.Context) error {
	const perBatch = 100
	n := r.cfg.HTTPEvents / perBatch
	bodies := make([]body, 0, 500)
	for i := range min(n, 500) {
		bodies = append(bodies, r.gen.body(r.next+i*perBatch, perBatch))
	}
	first := r.next
	r.next += n * perBatch
	r.bodies = bodies
	var sent atomic.Int64
	var lastFifth time.Time
	var failed error
	var once sync.Once
	start := time.Now()
	busy0 := r.busyNow()
	probe := r.startLagProbe(ctx)
	var wg sync.WaitGroup
	for c := range r.cfg.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; i < n; i += r.cfg.Clients {
				if err := r.post(ctx, r.url, r.gen.stamp(bodies[i%len(bodies)], first+i*perBatch)); err != nil {
					once.Do(func() { failed = err })
					return
				}
				if sent.Add(1) == int64(n*4/5) {
					lastFifth = time.Now()
				}
			}
		}()
	}
	wg.Wait()
	total := time.Since(start)
	lag, probes, perr := probe.finish()
	if failed != nil {
		return failed
	}
	if perr != nil {
		return perr
	}
	got := rate(n*perBatch, total)
	r.add("HTTP ingest, batches of 100, "+fmt.Sprint(r.cfg.Clients)+" clients",
		fmt.Sprintf("%.0f events/s", got), ">= 50,000 events/s",
		fmt.Sprintf("%.0f%% of the raw ceiling (target >= 50%%)", 100*got/r.rawRate))
	tail := rate(n*perBatch/5, time.Since(lastFifth))
	r.add("HTTP ingest, last fifth of the run", fmt.Sprintf("%.0f events/s", tail), ">= 50,000 events/s",
		fmt.Sprintf("store grew from %d to %d events", r.next-n*perBatch/5, r.next))
	value, note := r.busyReport(busy0)
	r.add("writer busy per event, HTTP batches", value, "<= 12 us/event", note)
	r.add("index lag during the burst (max)", ms(lag), "<= 1 s",
		fmt.Sprintf("%d probes: acknowledged until found by actor, target and action", probes))
	return nil
}

// client keeps enough idle connections for every concurrent request of
// the load (http.DefaultClient keeps two a host, so each request past
// those opened a connection and closed it again, which under a stall
// piled up thousands of sockets).
var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024, MaxIdleConns: 1024}}

func (r *runner) post(ctx context.Context, url string, body []byte) error {
	req, _ := http.NewRequestWithContext(ctx, "POST", url+"/v1/events", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+r.platform)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("POST /v1/events: %s: %s", resp.Status, msg)
	}
	return nil
}

// single sends one event per request at a fixed rate on a store that has
// calmed down since the HTTP burst: the quiet figure.
func (r *runner) single(ctx context.Context) error {
	lat, pages, err := r.singlesAndPages(ctx, r.cfg.SingleDuration)
	if err != nil {
		return err
	}
	r.quietP99 = percentile(lat, 99)
	r.addSingles(lat, pages, "", "filtered first page beside them", "p99 <= 10 ms",
		fmt.Sprintf("%d requests, first pages running beside them as right after the burst", len(lat)))
	if r.burstP99 > 0 && r.quietP99 > 0 && r.suffix == "" {
		r.add("single events: p99 right after the burst / quiet p99", fmt.Sprintf("%.1fx", float64(r.burstP99)/float64(r.quietP99)),
			"<= 2x", "")
	}
	return nil
}

// maxInFlight bounds the concurrent requests of paced.
const maxInFlight = 1000

// paced sends one event per request at cfg.SingleRate for d, open loop:
// latency is measured from when each request was due, so a stall is not
// hidden by the requests it delayed.
func (r *runner) paced(ctx context.Context, d time.Duration) ([]time.Duration, error) {
	n := int(d.Seconds() * float64(r.cfg.SingleRate))
	bodies := make([]body, 1000)
	for i := range bodies {
		bodies[i] = r.gen.body(r.next+i, 1)
	}
	first := r.next
	r.next += n
	lat := make([]time.Duration, n)
	interval := time.Second / time.Duration(r.cfg.SingleRate)
	var wg sync.WaitGroup
	var failures atomic.Int64
	// At most maxInFlight requests at once: a store that stalls for seconds
	// would otherwise have the load open sockets without bound. A request
	// held back still counts its latency from when it was due.
	slots := make(chan struct{}, maxInFlight)
	start := time.Now()
	for i := range n {
		due := start.Add(time.Duration(i) * interval)
		time.Sleep(time.Until(due)) // pacing the load, not synchronizing
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots }()
			defer wg.Done()
			if err := r.post(ctx, r.url, r.gen.stamp(bodies[i%len(bodies)], first+i)); err != nil {
				failures.Add(1)
			}
			lat[i] = time.Since(due)
		}()
	}
	wg.Wait()
	if f := failures.Load(); f > 0 {
		return nil, fmt.Errorf("single-event ingest: %d of %d requests failed", f, n)
	}
	return lat, nil
}
