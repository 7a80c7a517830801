package bench

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trailhq/trail"
)

// The measures of issue 16: what ingest and queries see while the store
// still works off an HTTP burst (index maintenance, merges, checkpoints),
// how much serial work a commit costs, and how long an acknowledged event
// takes to become findable by each filter.

// afterBurst starts the moment the HTTP burst ends: single events at
// cfg.SingleRate for cfg.BurstDuration and, beside them, filtered first
// pages from one client, while the store's background work runs.
func (r *runner) afterBurst(ctx context.Context) error {
	singles, pages, err := r.singlesAndPages(ctx, r.cfg.BurstDuration)
	if err != nil {
		return err
	}
	r.burstP99 = percentile(singles, 99)
	r.addSingles(singles, pages, ", right after the burst", "filtered first page, right after the burst",
		"p99 <= 10 ms and <= 2x the quiet p99",
		fmt.Sprintf("%d requests over %s, starting as the burst ends, first pages running beside them", len(singles), r.cfg.BurstDuration))
	return nil
}

// addSingles reports the latencies of singlesAndPages.
func (r *runner) addSingles(singles, pages []time.Duration, when, pagesName, target, note string) {
	r.add(fmt.Sprintf("single-event POST at %d req/s%s", r.cfg.SingleRate, when),
		"p50 "+ms(percentile(singles, 50))+", p99 "+ms(percentile(singles, 99)), target, note)
	r.add(pagesName, "p50 "+ms(percentile(pages, 50))+", p99 "+ms(percentile(pages, 99)),
		"p99 <= 10 ms", fmt.Sprintf("%d queries from one client, every filter in turn", len(pages)))
}

// singlesAndPages sends single events at cfg.SingleRate for d and, beside
// them, first pages of every filter from one client; the quiet step does
// the same, so that the two compare like with like.
func (r *runner) singlesAndPages(ctx context.Context, d time.Duration) (singles, pages []time.Duration, err error) {
	qctx, stop := context.WithCancel(ctx)
	var qerr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		pages, qerr = r.queryLoop(qctx)
	}()
	singles, err = r.paced(ctx, d)
	stop()
	<-done
	return singles, pages, cmp.Or(err, qerr)
}

// queryLoop runs first pages of every filter in turn until ctx ends, one
// at a time, and returns their latencies.
func (r *runner) queryLoop(ctx context.Context) ([]time.Duration, error) {
	var lat []time.Duration
	for i := 0; ; i++ {
		for _, v := range r.filters(i) {
			if _, ok := v["cursor"]; ok {
				continue
			}
			start := time.Now()
			_, err := r.get(ctx, "/v1/events?"+v.Encode(), r.tenant)
			if ctx.Err() != nil {
				return lat, nil
			}
			if err != nil {
				return nil, fmt.Errorf("first page during background work: %w", err)
			}
			lat = append(lat, time.Since(start))
		}
	}
}

// writeBusy adds up the time the Writer spends inside AppendBatches, the
// serial part of ingest: while one commit runs, no other can.
type writeBusy struct {
	ns, events atomic.Int64
}

func (b *writeBusy) observe(st trail.CommitStats) {
	if st.Err == nil {
		b.ns.Add(int64(st.Duration))
		b.events.Add(int64(st.Events))
	}
}

// busy is where the serial work of ingest stood at one moment.
type busy struct {
	ns, events                     int64
	commits, commitCPU, background time.Duration
}

func (r *runner) busyNow() busy {
	b := busy{ns: r.busy.ns.Load(), events: r.busy.events.Load()}
	if r.cfg.WriteTimes != nil {
		b.commits, b.commitCPU, b.background = r.cfg.WriteTimes()
	}
	return b
}

// busyReport returns the serial work per event since b0: for a store that
// reports its write transactions, the commits' time (with their CPU time
// and the background work beside them); else the time the Writer spent in
// AppendBatches.
func (r *runner) busyReport(b0 busy) (string, string) {
	b := r.busyNow()
	n := b.events - b0.events
	if n <= 0 {
		return "n/a", ""
	}
	per := func(d time.Duration) string {
		return fmt.Sprintf("%.1f us/event", float64(d)/float64(time.Microsecond)/float64(n))
	}
	appends := per(time.Duration(b.ns - b0.ns))
	if r.cfg.WriteTimes == nil {
		return appends, fmt.Sprintf("time inside AppendBatches over %d events", n)
	}
	return per(b.commits - b0.commits), fmt.Sprintf("time inside commits over %d events, of which CPU %s; "+
		"indexing and merges beside them, under the index file's own lock, %s; AppendBatches as the Writer "+
		"sees it %s", n, per(b.commitCPU-b0.commitCPU), per(b.background-b0.background), appends)
}

// lagProbe measures index lag during the burst: every probeGap it posts
// one event with an actor and a target of its own and polls the first
// pages of its actor, its target and its action until each holds it.
type lagProbe struct {
	r    *runner
	max  time.Duration
	n    int
	err  error
	stop chan struct{}
	done chan struct{}
}

const probeGap = 250 * time.Millisecond

func (r *runner) startLagProbe(ctx context.Context) *lagProbe {
	p := &lagProbe{r: r, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for i := 0; ; i++ {
			lag, err := p.once(ctx, i)
			if err != nil {
				p.err = err
				return
			}
			p.n, p.max = p.n+1, max(p.max, lag)
			select {
			case <-p.stop:
				return
			case <-time.After(probeGap): // pacing the probe, not synchronizing
			}
		}
	}()
	return p
}

// finish lets the probe in flight be found, stops the probe and returns
// the largest lag it saw and the number of probes.
func (p *lagProbe) finish() (time.Duration, int, error) {
	close(p.stop)
	<-p.done
	return p.max, p.n, p.err
}

// once posts probe i and returns how long after its acknowledgement every
// filter found it.
func (p *lagProbe) once(ctx context.Context, i int) (time.Duration, error) {
	actor, target := fmt.Sprintf("probe_%d_%d", time.Now().UnixNano(), i), fmt.Sprintf("probe_%d", i)
	body, _ := json.Marshal(map[string]any{"action": "bench.probe", "tenant": Tenant(0),
		"occurred_at": time.Now().UTC().Format(timeLayout), "actor": map[string]any{"type": "user", "id": actor},
		"targets": []any{map[string]any{"type": "probe", "id": target}}})
	if err := p.r.post(ctx, p.r.url, body); err != nil {
		return 0, err
	}
	acked := time.Now()
	filters := []url.Values{{"actor_id": {actor}}, {"target_type": {"probe"}, "target_id": {target}},
		{"action": {"bench.probe"}, "limit": {"1"}}}
	var wg sync.WaitGroup
	errs := make([]error, len(filters))
	for k, v := range filters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[k] = p.poll(ctx, v, actor)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return 0, err
		}
	}
	return time.Since(acked), nil
}

// poll reads the first page of filter v until it holds the event of
// actor, for at most a minute.
func (p *lagProbe) poll(ctx context.Context, v url.Values, actor string) error {
	deadline := time.Now().Add(time.Minute)
	for {
		b, err := p.r.get(ctx, "/v1/events?"+v.Encode(), p.r.tenant)
		if err != nil {
			return err
		}
		var page struct {
			Events []struct {
				Actor struct{ ID string } `json:"actor"`
			} `json:"events"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			return err
		}
		for _, e := range page.Events {
			if e.Actor.ID == actor {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("index lag: event of %s not found by %s after a minute", actor, v.Encode())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond): // polling the API, as a client would
		}
	}
}
