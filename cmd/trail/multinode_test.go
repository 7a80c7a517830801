package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/client"
	"github.com/trailhq/trail/internal/pgtest"
	"github.com/trailhq/trail/postgres"
)

// createStoreKey runs `trail keys create --store dsn` and returns the
// secret.
func createStoreKey(tb testing.TB, dsn string, args ...string) string {
	tb.Helper()
	out := mustCLI(tb, nil, append([]string{"keys", "create", "--store", dsn, "--output", "json"}, args...)...)
	var k struct{ Secret string }
	if err := json.Unmarshal([]byte(out), &k); err != nil || k.Secret == "" {
		tb.Fatalf("keys create printed %q: %v", out, err)
	}
	return k.Secret
}

// nodeEvents returns n events of one request of worker w, each with its
// own target, with explicit times so that a retry sends the same body.
func nodeEvents(w, i, n int, at time.Time) []client.Event {
	events := make([]client.Event, n)
	for j := range events {
		events[j] = client.Event{
			Action:     "document.updated",
			OccurredAt: at,
			Actor:      trail.Actor{Type: "user", ID: fmt.Sprintf("u_%d", w)},
			Targets:    []trail.Target{{Type: "document", ID: fmt.Sprintf("d_%d_%d_%d", w, i, j)}},
		}
	}
	return events
}

// TestTwoNodes runs two real `trail serve` processes on one PostgreSQL
// database, ingests through both at once, and checks that every event is
// readable from either, that Seq and Pos stay dense in commit order, and
// that an Idempotency-Key retried on the other node stores nothing twice.
func TestTwoNodes(t *testing.T) {
	dsn := pgtest.NewDB(t)
	key := createStoreKey(t, dsn, "--tenant", "acme", "--scopes", "events:write,events:read")
	a := startServe(t, "--store", dsn, "--data", t.TempDir())
	b := startServe(t, "--store", dsn, "--data", t.TempDir())
	ca, cb := client.New(a.URL, key), client.New(b.URL, key)

	acked := ingestThrough(t, []*client.Client{ca, cb, ca, cb}, 15, 40)
	for name, c := range map[string]*client.Client{"node a": ca, "node b": cb} {
		got := listDocIDs(t, c)
		for _, id := range acked {
			if !got[id] {
				t.Fatalf("%s: acknowledged event %s not readable", name, id)
			}
		}
		if len(got) != len(acked) {
			t.Fatalf("%s: %d events readable, want the %d acknowledged", name, len(got), len(acked))
		}
	}
	checkDenseLog(t, dsn, len(acked))

	t.Run("IdempotencyAcrossNodes", func(t *testing.T) {
		events := nodeEvents(9, 0, 3, time.Now().UTC().Truncate(time.Second))
		first, err := ca.PublishIdempotent(t.Context(), "retry-on-b", events...)
		if err != nil {
			t.Fatal(err)
		}
		again, err := cb.PublishIdempotent(t.Context(), "retry-on-b", events...)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(first, again) {
			t.Errorf("retry on node b returned ids %v, want the first answer %v", again, first)
		}
		if got, want := len(listDocIDs(t, cb)), len(acked)+len(events); got != want {
			t.Errorf("after a retry on the other node: %d events stored, want %d", got, want)
		}
	})
	t.Run("SameKeyOnBothAtOnce", func(t *testing.T) {
		before := len(listDocIDs(t, ca))
		events := nodeEvents(10, 0, 5, time.Now().UTC().Truncate(time.Second))
		answers := make([][]string, 2)
		var wg sync.WaitGroup
		for i, c := range []*client.Client{ca, cb} {
			wg.Go(func() {
				ids, err := c.PublishIdempotent(context.Background(), "both-at-once", events...)
				if err != nil {
					t.Errorf("node %d: %v", i, err)
				}
				answers[i] = ids
			})
		}
		wg.Wait()
		if !slices.Equal(answers[0], answers[1]) {
			t.Errorf("the two nodes answered different ids: %v and %v", answers[0], answers[1])
		}
		if got, want := len(listDocIDs(t, ca)), before+len(events); got != want {
			t.Errorf("one key sent to both nodes at once: %d events stored, want %d", got, want)
		}
	})
}

// listDocIDs pages through every document.updated event the key can see.
func listDocIDs(tb testing.TB, c *client.Client) map[string]bool {
	tb.Helper()
	ids := map[string]bool{}
	for e, err := range c.All(context.Background(), client.Query{Actions: []string{"document.updated"}, Limit: 500}) {
		if err != nil {
			tb.Fatal(err)
		}
		ids[e.ID] = true
	}
	return ids
}

// ingestThrough publishes, from one goroutine per client, n requests of
// size events each, and returns the ids of every acknowledged event.
func ingestThrough(t *testing.T, clients []*client.Client, n, size int) []string {
	t.Helper()
	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	at := time.Now().UTC().Truncate(time.Second)
	for w, c := range clients {
		wg.Go(func() {
			for i := range n {
				ids, err := c.Publish(context.Background(), nodeEvents(w, i, size, at)...)
				if err != nil {
					t.Errorf("worker %d request %d: %v", w, i, err)
					return
				}
				mu.Lock()
				acked = append(acked, ids...)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return acked
}

// checkDenseLog reads the store directly and checks that the stream holds
// positions 1..k and acme's log Seq 0..m-1 with no gaps, n of them the
// ingested documents: numbers handed out by two nodes follow one commit
// order.
func checkDenseLog(t *testing.T, dsn string, n int) {
	t.Helper()
	db, err := postgres.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stream, err := db.StreamEvents(t.Context(), 0, trail.MaxLimit*10)
	if err != nil {
		t.Fatal(err)
	}
	var acme []*trail.Event
	docs := 0
	for i, e := range stream {
		if e.Pos != int64(i+1) {
			t.Fatalf("stream position %d holds Pos %d: not dense", i+1, e.Pos)
		}
		if e.Tenant == "acme" {
			acme = append(acme, e)
		}
		if e.Action == "document.updated" {
			docs++
		}
	}
	if docs != n {
		t.Fatalf("stream holds %d ingested events, want %d", docs, n)
	}
	slices.SortFunc(acme, func(x, y *trail.Event) int { return int(x.Seq - y.Seq) })
	for i, e := range acme {
		if e.Seq != int64(i) {
			t.Fatalf("acme's log position %d holds Seq %d: not dense", i, e.Seq)
		}
	}
}
