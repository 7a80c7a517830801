package main_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	main "github.com/trailhq/trail/cmd/trail"
	"github.com/trailhq/trail/forward"
	"github.com/trailhq/trail/internal/testenv"
)

// TestServeForwarders runs the real binary with a forwarder in its config
// file: the forwarder is created at start, delivers an ingested event,
// signed with the configured secret, and shows in the API and metrics.
func TestServeForwarders(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	var mu sync.Mutex
	var got []string
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := forward.Verify(secret, r.Header, body, time.Minute, time.Now()); err != nil {
			t.Errorf("signature: %v", err)
		}
		var e struct{ Action string }
		json.Unmarshal(body, &e)
		mu.Lock()
		got = append(got, e.Action+" "+r.Header.Get("Authorization"))
		mu.Unlock()
	}))
	defer rc.Close()
	data := newData(t)
	cfg := writeFile(t, "trail.yaml", `forwarders:
  - name: siem
    kind: webhook
    uri: `+rc.URL+`
    token: THE-SECRET-TOKEN
    secret: `+secret+`
    filter: {actions: ["user.*"]}
`)
	_, key := createKey(t, data, "--platform", "--scopes", "admin,events:write")
	const metricsToken = "metrics-token-0123456789abcdef"
	p := startServe(t, "--data", data, "--config", cfg, "--metrics-token", metricsToken)

	ev := `{"tenant":"acme","action":"user.created","actor":{"type":"user","id":"u1"},"occurred_at":"` +
		time.Now().UTC().Format(time.RFC3339) + `"}`
	req, _ := http.NewRequest("POST", p.URL+"/v1/events", strings.NewReader(ev))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("ingest: %v %v", resp, err)
	}
	resp.Body.Close()
	if !testenv.Poll(15*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) > 0
	}) {
		t.Fatalf("no delivery; logs:\n%s", p.Logs())
	}
	if want := "user.created Bearer THE-SECRET-TOKEN"; got[0] != want {
		t.Errorf("delivered %q, want %q", got[0], want)
	}

	var f struct {
		ManagedBy string `json:"managed_by"`
		Secret    string
		Status    struct{ State string }
	}
	getJSON(t, p.URL+"/v1/forwarders/siem", key, &f)
	if f.ManagedBy != "config" || f.Status.State != "active" || f.Secret != "****LaSw" {
		t.Errorf("GET /v1/forwarders/siem = %+v", f)
	}
	req, _ = http.NewRequest("GET", p.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+metricsToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	metrics := string(b)
	if !strings.Contains(metrics, `trail_forwarder_delivered_events_total{name="siem",tenant=""} 1`) {
		t.Errorf("metrics lack the delivered count:\n%s", grepLines(metrics, "trail_forwarder"))
	}
}

func TestForwarderConfigErrors(t *testing.T) {
	cfg := writeFile(t, "trail.yaml", "forwarders:\n  - name: siem\n    kind: webhook\n    uri: https://siem.example.com\n    method: GET\n")
	_, err := main.LoadConfig([]string{"--config", cfg}, env(nil), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "forwarders[0].method: must be POST, PUT or PATCH") {
		t.Errorf("error %v, want one naming forwarders[0].method", err)
	}
}

func getJSON(t *testing.T, url, key string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s %s", url, resp.Status, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func getText(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
