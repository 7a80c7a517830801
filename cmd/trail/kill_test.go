package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/client"
	"github.com/trailhq/trail/internal/testenv"
)

// TestKill9 kills a real `trail serve` with SIGKILL while several clients
// ingest, restarts it on the same data folder, and checks that every event
// whose batch was acknowledged (201) is there: nothing acknowledged is lost.
func TestKill9(t *testing.T) {
	data := newData(t)
	_, key := createKey(t, data, "--tenant", "acme", "--scopes", "events:write,events:read")
	srv := startServe(t, "--data", data)
	in := ingest(client.New(srv.URL, key), 4, 50)
	// Kill mid-ingest: once a good number of events are acknowledged, while
	// the clients keep sending.
	testenv.Eventually(t, 20*time.Second, "in.count.Load() >= 2000", func() bool { return in.count.Load() >= 2000 })
	if err := srv.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	acked := in.wait()
	srv.wait(t)

	srv = startServe(t, "--data", data)
	stored := exportIDs(t, client.New(srv.URL, key))
	missing := 0
	for _, id := range acked {
		if !stored[id] {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged events are missing after kill -9", missing, len(acked))
	}
	t.Logf("%d acknowledged events, %d stored, none lost", len(acked), len(stored))
}

// ingestion is clients publishing batches until their server goes away.
type ingestion struct {
	mu    sync.Mutex
	acked []string
	count atomic.Int64
	wg    sync.WaitGroup
}

// ingest starts workers goroutines that publish batches of n events
// through c and record the ids of every acknowledged batch.
func ingest(c *client.Client, workers, n int) *ingestion {
	in := &ingestion{}
	for w := range workers {
		in.wg.Add(1)
		go func() {
			defer in.wg.Done()
			for i := 0; ; i++ {
				ids, err := c.Publish(context.Background(), batch(w, i, n)...)
				if err != nil {
					return // the server is gone
				}
				in.mu.Lock()
				in.acked = append(in.acked, ids...)
				in.mu.Unlock()
				in.count.Add(int64(len(ids)))
			}
		}()
	}
	return in
}

// wait waits for every worker to stop and returns the acknowledged ids.
func (in *ingestion) wait() []string {
	in.wg.Wait()
	return in.acked
}

// batch returns n events for worker w's i-th request.
func batch(w, i, n int) []client.Event {
	events := make([]client.Event, n)
	for j := range events {
		events[j] = client.Event{
			Action:  "document.updated",
			Actor:   trail.Actor{Type: "user", ID: fmt.Sprintf("u_%d", w)},
			Targets: []trail.Target{{Type: "document", ID: fmt.Sprintf("d_%d_%d_%d", w, i, j)}},
		}
	}
	return events
}

// exportIDs returns the ids of every event the key can see.
func exportIDs(tb testing.TB, c *client.Client) map[string]bool {
	tb.Helper()
	var buf bytes.Buffer
	if err := c.Export(context.Background(), client.FormatJSONL, client.Query{}, &buf); err != nil {
		tb.Fatal(err)
	}
	ids := map[string]bool{}
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var e struct{ ID string }
		if err := dec.Decode(&e); err != nil {
			tb.Fatal(err)
		}
		ids[e.ID] = true
	}
	return ids
}
