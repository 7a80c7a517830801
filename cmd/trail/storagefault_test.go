package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/trailhq/trail/client"
	"github.com/trailhq/trail/internal/pgtest"
	"github.com/trailhq/trail/internal/testenv"
	"github.com/trailhq/trail/internal/tmpfs"
)

// TestStorageFull runs `trail serve` with its database on a small tmpfs
// (SQLite's data folder, PostgreSQL's tablespace) and fills the disk:
// ingest answers 503 storage_full with Retry-After, /readyz turns not ready
// with that code, the metrics and an ERROR line say so, reads go on, and
// once space returns /readyz and ingest recover by themselves with every
// acknowledged event kept.
func TestStorageFull(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) {
		data := tmpfs.Mount(t, 48<<20)
		node := startServe(t, "--data", data, "--metrics-token", faultMetricsToken)
		_, key := createKey(t, data, "--tenant", "acme", "--scopes", "events:write,events:read")
		testStorageFull(t, node, key, filepath.Join(data, "filler"))
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		dir := tmpfs.Mount(t, 48<<20)
		srv := pgtest.MustServer(t, pgtest.Options{})
		space := filepath.Join(dir, "space")
		if err := os.Mkdir(space, 0o700); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{dir, space} {
			if err := srv.Chown(p); err != nil {
				t.Fatal(err)
			}
		}
		pgExec(t, srv.DSN("postgres"), "CREATE TABLESPACE small LOCATION '"+space+"'")
		pgExec(t, srv.DSN("postgres"), "CREATE DATABASE smalldb TEMPLATE template0 TABLESPACE small")
		dsn := srv.DSN("smalldb")
		key := createStoreKey(t, dsn, "--tenant", "acme", "--scopes", "events:write,events:read")
		node := startServe(t, "--store", dsn, "--data", t.TempDir(), "--metrics-token", faultMetricsToken)
		testStorageFull(t, node, key, filepath.Join(dir, "filler"))
	})
}

// faultMetricsToken guards /metrics on the nodes of the storage-fault tests.
const faultMetricsToken = "fault-metrics-token-0123456789"

func testStorageFull(t *testing.T, node *serveProc, key, filler string) {
	if code, _, _ := post(t, node.URL, key, "before", 50); code != 201 {
		t.Fatalf("before the disk fills: status %d, want 201", code)
	}
	acked := countAll(t, client.New(node.URL, key)) // with the CLI's own audit events
	tmpfs.Fill(t, filler)

	var code int
	var retry, body string
	for i := 0; ; i++ {
		var ids []string
		code, retry, body, ids = postEvents(t, node.URL, key, fmt.Sprint("full", i), 200)
		if code != 201 {
			break
		}
		acked += len(ids)
		if i == 1000 {
			t.Fatal("1000 batches stored on a full disk")
		}
	}
	t.Run("IngestAnswers503", func(t *testing.T) {
		if code != 503 || retry == "" {
			t.Errorf("ingest on a full disk: status %d, Retry-After %q; want 503 with Retry-After", code, retry)
		}
		if !strings.Contains(body, `"code":"storage_full"`) {
			t.Errorf("ingest on a full disk answered %s, want code storage_full", body)
		}
	})
	t.Run("NotReady", func(t *testing.T) {
		code, body := getBody(t, node.URL+"/readyz", "")
		if code != 503 || !strings.Contains(body, `"code":"storage_full"`) {
			t.Errorf("/readyz on a full disk: %d %s; want 503 storage_full", code, body)
		}
	})
	t.Run("Metrics", func(t *testing.T) {
		_, body := getBody(t, node.URL+"/metrics", faultMetricsToken)
		for _, want := range []string{`trail_store_healthy 0`, `trail_store_errors_total{reason="storage_full"} `} {
			if !strings.Contains(body, want) {
				t.Errorf("/metrics lacks %q", want)
			}
		}
		if n := metricValue(body, `trail_store_errors_total{reason="storage_full"}`); n < 1 {
			t.Errorf("trail_store_errors_total{reason=storage_full} = %v, want >= 1", n)
		}
	})
	t.Run("ErrorLogged", func(t *testing.T) {
		if !regexp.MustCompile(`level=ERROR.*code=storage_full`).MatchString(node.Logs()) {
			t.Errorf("no ERROR line naming storage_full in the log:\n%s", node.Logs())
		}
	})
	t.Run("ReadsWork", func(t *testing.T) {
		if n := countAll(t, client.New(node.URL, key)); n != acked {
			t.Errorf("read %d events on a full disk, want the %d acknowledged", n, acked)
		}
	})

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	t.Run("Recovers", func(t *testing.T) {
		testenv.Eventually(t, 20*time.Second, "the node to be ready again", func() bool { c, _ := getBody(t, node.URL+"/readyz", ""); return c == 200 })
		code, _, ids := post(t, node.URL, key, "after", 50)
		if code != 201 {
			t.Fatalf("ingest after space returned: status %d, want 201", code)
		}
		acked += len(ids)
		if n := countAll(t, client.New(node.URL, key)); n != acked {
			t.Errorf("read %d events after recovery, want the %d acknowledged", n, acked)
		}
		if _, body := getBody(t, node.URL+"/metrics", faultMetricsToken); !strings.Contains(body, "trail_store_healthy 1") {
			t.Error("trail_store_healthy is not 1 after recovery")
		}
	})
}

// TestDatabaseFileDeletedSQLite deletes trail.db under a running server:
// SQLite would go on writing to the unlinked file and lose it all at the
// next start, so ingest must refuse with 503 and /readyz turn not ready.
func TestDatabaseFileDeletedSQLite(t *testing.T) {
	data := t.TempDir()
	node := startServe(t, "--data", data)
	_, key := createKey(t, data, "--tenant", "acme", "--scopes", "events:write,events:read")
	if code, _, _ := post(t, node.URL, key, "before", 5); code != 201 {
		t.Fatalf("before: status %d, want 201", code)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(filepath.Join(data, "trail.db"+suffix))
	}
	code, retry, _ := post(t, node.URL, key, "lost", 5)
	if code != 503 || retry == "" {
		t.Errorf("ingest after trail.db was deleted: status %d, Retry-After %q; want 503 with Retry-After", code, retry)
	}
	if code, body := getBody(t, node.URL+"/readyz", ""); code != 503 || !strings.Contains(body, `"code":"unavailable"`) {
		t.Errorf("/readyz after trail.db was deleted: %d %s; want 503 unavailable", code, body)
	}
}

// pgExec runs one statement on the database at dsn.
func pgExec(t *testing.T, dsn, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// postEvents sends one batch of n events, each targeting document tag-j,
// and returns the status, the Retry-After header, the body and the ids of
// a 201.
func postEvents(tb testing.TB, url, key, tag string, n int) (int, string, string, []string) {
	tb.Helper()
	var events []map[string]any
	for j := range n {
		events = append(events, map[string]any{
			"action": "document.updated", "occurred_at": time.Now().UTC().Format(time.RFC3339Nano),
			"actor":   map[string]string{"type": "user", "id": "u1"},
			"targets": []map[string]string{{"type": "document", "id": fmt.Sprintf("%s-%d", tag, j)}},
		})
	}
	b, _ := json.Marshal(map[string]any{"events": events})
	req, _ := http.NewRequest("POST", url+"/v1/events", bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		tb.Fatalf("POST /v1/events: %v", err)
	}
	defer resp.Body.Close()
	b, _ = io.ReadAll(resp.Body)
	var out struct{ IDs []string }
	json.Unmarshal(b, &out)
	return resp.StatusCode, resp.Header.Get("Retry-After"), string(b), out.IDs
}

// getBody GETs url, with key as bearer token unless empty.
func getBody(tb testing.TB, url, key string) (int, string) {
	tb.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metricValue returns the value of the sample named exactly series, or -1.
func metricValue(body, series string) float64 {
	for _, line := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			var v float64
			fmt.Sscan(rest, &v)
			return v
		}
	}
	return -1
}

// countAll counts every event the key can read.
func countAll(tb testing.TB, c *client.Client) int {
	tb.Helper()
	n := 0
	for _, err := range c.All(context.Background(), client.Query{}) {
		if err != nil {
			tb.Fatal(err)
		}
		n++
	}
	return n
}
