package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"sync/atomic"
	"time"
)

// filters are the first-page queries people run most, made with a tenant
// key: its scope holds its own events and the system events.
func (r *runner) filters(i int) map[string]url.Values {
	actor := fmt.Sprintf("user_%05d", (i*numTenants)%numActors) // an actor of tenant 0
	since := r.gen.base.Add(time.Duration(i%20) * 24 * time.Hour)
	return map[string]url.Values{
		"newest page":          {},
		"action":               {"action": {actions[i%len(actions)]}},
		"action prefix":        {"action": {"user.*"}},
		"actor_id":             {"actor_id": {actor}},
		"target":               {"target_type": {"project"}, "target_id": {fmt.Sprintf("proj_%05d", i%numTargets)}},
		"target type + action": {"target_type": {"project"}, "action": {actions[i%len(actions)]}},
		"date range":           {"since": {since.Format(time.RFC3339)}, "until": {since.Add(24 * time.Hour).Format(time.RFC3339)}},
		"action + range":       {"action": {actions[i%len(actions)]}, "since": {since.Format(time.RFC3339)}},
		"sort by action":       {"sort": {"action"}},
		"page 2 (cursored)":    {"cursor": {""}},
	}
}

func (r *runner) queries(ctx context.Context) error {
	lat := map[string][]time.Duration{}
	var names []string
	for i := range r.cfg.Queries {
		for name, v := range r.filters(i) {
			if i == 0 {
				names = append(names, name)
			}
			if _, ok := v["cursor"]; ok {
				v = r.secondPageQuery(ctx)
			}
			start := time.Now()
			if _, err := r.get(ctx, "/v1/events?"+v.Encode(), r.tenant); err != nil {
				return fmt.Errorf("query %s: %w", name, err)
			}
			lat[name] = append(lat[name], time.Since(start))
		}
	}
	var all []time.Duration
	for _, name := range names {
		all = append(all, lat[name]...)
	}
	r.add(fmt.Sprintf("filtered first page over HTTP, %d events stored", r.next),
		"p50 "+ms(percentile(all, 50))+", p99 "+ms(percentile(all, 99)), "p99 <= 10 ms",
		fmt.Sprintf("%d queries, limit 100, tenant key", len(all)))
	for _, name := range names {
		d := lat[name]
		r.add("  query: "+name, "p50 "+ms(percentile(d, 50))+", p99 "+ms(percentile(d, 99)), "", "")
	}
	return nil
}

// secondPageQuery returns the parameters of the newest page's next page.
func (r *runner) secondPageQuery(ctx context.Context) url.Values {
	var page struct {
		Next string `json:"next_cursor"`
	}
	b, err := r.get(ctx, "/v1/events", r.tenant)
	if err == nil {
		_ = json.Unmarshal(b, &page)
	}
	return url.Values{"cursor": {page.Next}}
}

func (r *runner) get(ctx context.Context, path, key string) ([]byte, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", r.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", path, resp.Status, b)
	}
	return b, err
}

// export streams every stored event as CSV and samples the heap meanwhile:
// a flat heap shows the export does not buffer.
func (r *runner) export(ctx context.Context) error {
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	stop := make(chan struct{})
	go sampleHeap(&peak, stop)
	req, _ := http.NewRequestWithContext(ctx, "GET", r.url+"/v1/events/export?format=csv", nil)
	req.Header.Set("Authorization", "Bearer "+r.platform)
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		close(stop)
		return err
	}
	lines := 0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines++
	}
	resp.Body.Close()
	elapsed := time.Since(start)
	close(stop)
	if err := sc.Err(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	rows := lines - 1 // header
	r.add("CSV export, every event", fmt.Sprintf("%.0f events/s", rate(rows, elapsed)), r.cfg.ExportTarget,
		fmt.Sprintf("%d rows; heap before %d MiB, peak during %d MiB", rows, before.HeapInuse>>20, peak.Load()>>20))
	return nil
}

func sampleHeap(peak *atomic.Uint64, stop chan struct{}) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
		}
	}
}
