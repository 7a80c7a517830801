package main_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailhq/trail/client"
	"github.com/trailhq/trail/internal/pgtest"
	"github.com/trailhq/trail/internal/testenv"
)

// post sends one batch of n events, each targeting document tag-j, and
// returns the status, the Retry-After header and the ids of a 201
// (postEvents, without the body).
func post(tb testing.TB, url, key, tag string, n int) (int, string, []string) {
	tb.Helper()
	code, retry, _, ids := postEvents(tb, url, key, tag, n)
	return code, retry, ids
}

// TestDatabaseOutage stops the PostgreSQL server under a running node:
// ingest answers 503 with Retry-After and stores nothing, batches in flight
// when it goes are stored whole or not at all, and once the server is back
// the node serves again without a restart.
func TestDatabaseOutage(t *testing.T) {
	srv := pgtest.MustServer(t, pgtest.Options{})
	dsn := srv.NewDB(t)
	key := createStoreKey(t, dsn, "--tenant", "acme", "--scopes", "events:write,events:read")
	node := startServe(t, "--store", dsn, "--data", t.TempDir())
	if code, _, _ := post(t, node.URL, key, "before", 5); code != 201 {
		t.Fatalf("before the outage: status %d, want 201", code)
	}

	acked, sent := ingestDuringStop(t, srv, node.URL, key)

	t.Run("Down", func(t *testing.T) {
		code, retry, _ := post(t, node.URL, key, "down", 5)
		if code != 503 || retry == "" {
			t.Fatalf("while the database is down: status %d, Retry-After %q; want 503 with Retry-After", code, retry)
		}
		if code := get(t, node.URL+"/readyz"); code != 503 {
			t.Errorf("/readyz while the database is down: %d, want 503", code)
		}
	})
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Run("Recovers", func(t *testing.T) {
		var code int
		if !testenv.Poll(30*time.Second, func() bool {
			code, _, _ = post(t, node.URL, key, "after", 5)
			return code == 201
		}) {
			t.Fatalf("30s after the database came back, ingest still answers %d", code)
		}
	})
	// The first read after the restart is an export: it must not meet the
	// dead connections the page pool kept from before.
	t.Run("ExportAfterRestart", func(t *testing.T) {
		code, body := httpDo(t, "GET", node.URL+"/v1/events/export?format=jsonl", key, "")
		if code != 200 {
			t.Fatalf("export after the restart: %d: %s", code, body)
		}
		if n := strings.Count(body, "\n"); n < 10 {
			t.Errorf("export after the restart: %d lines, want at least the 10 events posted before and after", n)
		}
	})
	t.Run("NothingPartial", func(t *testing.T) {
		c := client.New(node.URL, key)
		if n := countTarget(t, c, "down-0"); n != 0 {
			t.Errorf("a batch answered 503 was stored (%d events)", n)
		}
		for tag := range sent {
			n := countTarget(t, c, tag+"-0") + countTarget(t, c, tag+"-9")
			if acked[tag] && n != 2 || n != 0 && n != 2 {
				t.Errorf("batch %s (acknowledged %v): %d of its first and last events stored, want both or neither", tag, acked[tag], n)
			}
		}
	})
}

// ingestDuringStop keeps two clients posting batches of 10 while the server
// stops, and returns which batches were acknowledged and which were sent.
func ingestDuringStop(t *testing.T, srv *pgtest.Server, url, key string) (acked, sent map[string]bool) {
	acked, sent = map[string]bool{}, map[string]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 2 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				tag := fmt.Sprintf("w%d-%d", w, i)
				code, _, _ := post(t, url, key, tag, 10)
				mu.Lock()
				sent[tag], acked[tag] = true, code == 201
				mu.Unlock()
			}
		})
	}
	// Stop once batches flow, so some are in flight when the server goes.
	testenv.Eventually(t, 30*time.Second, "five acknowledged batches", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= 5
	})
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	ok := 0
	for _, a := range acked {
		if a {
			ok++
		}
	}
	t.Logf("during the stop: %d batches sent, %d acknowledged", len(sent), ok)
	return acked, sent
}

func get(tb testing.TB, url string) int {
	tb.Helper()
	resp, err := http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// countTarget counts the events that touched document id.
func countTarget(tb testing.TB, c *client.Client, id string) int {
	tb.Helper()
	page, err := c.TargetEvents(context.Background(), "document", id, client.Query{})
	if err != nil {
		tb.Fatal(err)
	}
	return len(page.Events)
}
