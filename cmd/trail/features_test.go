package main_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailhq/trail/alert"
	main "github.com/trailhq/trail/cmd/trail"
	"github.com/trailhq/trail/internal/testenv"
)

// TestServeFeatures runs serve with the OTLP port on and checks the wiring
// of alert rules, execution logs and retention end to end.
func TestServeFeatures(t *testing.T) {
	m := main.NewMain()
	m.Getenv, m.Stderr = env(nil), io.Discard
	err := m.ParseFlags([]string{"--addr", "127.0.0.1:0", "--otlp-addr", "127.0.0.1:0", "--data", t.TempDir(),
		"--forward-allow-networks", "127.0.0.0/8"}) // the tenant's alert webhook is local
	if err == nil {
		err = m.Run(context.Background())
	}
	t.Cleanup(func() { m.Close() })
	if err != nil {
		t.Fatal(err)
	}
	_, key := createKey(t, m.Config.Data, "--platform", "--scopes", "admin,events:write,events:read")
	call := func(method, url, body string, want int) string {
		t.Helper()
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d %s, want %d", method, url, resp.StatusCode, b, want)
		}
		return string(b)
	}
	var fired atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fired.Add(1) }))
	t.Cleanup(hook.Close)
	call("POST", m.URL()+"/v1/alerts/rules", `{"tenant":"acme","name":"deletions","filter":{"actions":["repo.deleted"]},
		"condition":{"type":"any"},"webhook":{"url":"`+hook.URL+`"}}`, 201)
	testenv.Eventually(t, 20*time.Second, "the alert evaluator to store its state", func() bool {
		cursor, _, err := m.Store.(alert.Store).AlertState(context.Background())
		return err == nil && cursor >= 0
	})
	body := call("POST", m.URL()+"/v1/events", `{"tenant":"acme","action":"repo.deleted","occurred_at":"2026-01-02T03:04:05Z",
		"actor":{"type":"user","id":"u1"},"trace_id":"5b8efff798038103d269b633813fc60c"}`, 201)
	id := body[strings.Index(body, `["`)+2 : strings.Index(body, `"]`)]
	testenv.Eventually(t, 20*time.Second, "fired.Load() == 1", func() bool { return fired.Load() == 1 })
	call("POST", "http://"+m.OTLPAddr()+"/v1/logs", `{"resourceLogs":[{"resource":{"attributes":[
		{"key":"trail.tenant","value":{"stringValue":"acme"}}]},"scopeLogs":[{"logRecords":[
		{"body":{"stringValue":"deleting 3 branches"},"traceId":"5b8efff798038103d269b633813fc60c"}]}]}]}`, 200)
	if logs := call("GET", m.URL()+"/v1/events/"+id+"/logs", "", 200); !strings.Contains(logs, "deleting 3 branches") {
		t.Fatalf("event logs = %s", logs)
	}
	call("POST", m.URL()+"/v1/retention/run", "", 200)
}
