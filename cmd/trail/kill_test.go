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
)

// TestKill9 kills a real `trail serve` with SIGKILL while several clients
// ingest, restarts it on the same data folder, and checks that every event
// whose batch was acknowledged (201) is there: nothing acknowledged is lost.
func TestKill9(t *testing.T) {
	data := t.TempDir()
	_, key := createKey(t, data, "--tenant", "acme", "--scopes", "events:write,events:read")
	srv := startServe(t, "--data", data)
	c := client.New(srv.URL, key)

	var (
		mu    sync.Mutex
		acked []string
		count atomic.Int64
		wg    sync.WaitGroup
	)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				ids, err := c.Publish(context.Background(), batch(w, i, 50)...)
				if err != nil {
					return // the server is gone
				}
				mu.Lock()
				acked = append(acked, ids...)
				mu.Unlock()
				count.Add(int64(len(ids)))
			}
		}()
	}
	// Kill mid-ingest: once a good number of events are acknowledged, while
	// the clients keep sending.
	deadline := time.Now().Add(60 * time.Second)
	for count.Load() < 2000 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d events acknowledged within 60s", count.Load())
		}
		time.Sleep(time.Millisecond)
	}
	if err := srv.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
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
