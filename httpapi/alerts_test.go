package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/alert"
	"github.com/trailhq/trail/internal/testenv"
)

func TestAlertRulesAPI(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s, allowLoopback)
		acme := e.newKey(t, "acme", false, trail.ScopeAdmin, trail.ScopeEventsWrite)
		globex := e.newKey(t, "globex", false, trail.ScopeAdmin)
		for _, tc := range []struct{ body, field string }{
			{`{"name":"x","condition":{"type":"threshold","window":"10m"},"webhook":{"url":"http://h/"}}`, "condition.count"},
			{`{"name":"x","condition":{"type":"threshold","count":5,"window":"10"},"webhook":{"url":"http://h/"}}`, "window"},
			{`{"name":"x","condition":{"type":"any"},"webhook":{"url":"ftp://h/"}}`, "webhook.url"},
			{`{"name":"x","condition":{"type":"any"},"webhook":{"url":"http://h/","format":"xml"}}`, "webhook.format"},
			{`{"name":"","condition":{"type":"any"},"webhook":{"url":"http://h/"}}`, "name"},
			{`{"name":"x","filter":{"context":{"ip":"10.0.0.0/99"}},"condition":{"type":"any"},"webhook":{"url":"http://h/"}}`, "filter.context.ip"},
		} {
			e.do(t, "POST", "/v1/alerts/rules", acme, tc.body).wantError(t, 400, trail.EINVALID, tc.field)
		}
		hits := newHook(t)
		body := `{"name":"brute force","filter":{"actions":["login.failure"]},
			"condition":{"type":"threshold","count":3,"window":"10m","group_by":"actor"},
			"webhook":{"url":"` + hits.URL + `","secret":"0123456789abcdef-secret"}}`
		rule := decode[trail.AlertRule](t, e.do(t, "POST", "/v1/alerts/rules", acme, body).want(t, 201))
		if rule.Tenant != "acme" || strings.Contains(rule.Webhook.Secret, "0123") {
			t.Fatalf("created rule = %+v (secret must be redacted)", rule)
		}
		e.do(t, "GET", "/v1/alerts/rules/"+rule.ID, globex, "").wantError(t, 404, trail.ENOTFOUND, "")
		type rules struct{ Rules []trail.AlertRule }
		if got := decode[rules](t, e.do(t, "GET", "/v1/alerts/rules", acme, "").want(t, 200)).Rules; len(got) != 1 {
			t.Fatalf("acme rules = %d, want 1", len(got))
		}
		runEvaluator(t, e)
		for range 3 {
			e.ingest(t, acme, event("login.failure"))
		}
		testenv.Eventually(t, 15*time.Second, "the alert webhook", func() bool { return hits.count() == 1 })
		type firings struct{ Firings []trail.AlertFiring }
		testenv.Eventually(t, 15*time.Second, "the firing to be marked delivered", func() bool {
			f := decode[firings](t, e.do(t, "GET", "/v1/alerts/rules/"+rule.ID+"/firings", acme, "").want(t, 200)).Firings
			return len(f) == 1 && !f[0].DeliveredAt.IsZero() && f[0].Count == 3
		})
		if got := hits.signature(); got != alert.Sign("0123456789abcdef-secret", hits.body()) {
			t.Fatalf("signature %q does not match the body", got)
		}
		off := decode[trail.AlertRule](t, e.do(t, "PATCH", "/v1/alerts/rules/"+rule.ID, acme, `{"disabled":true}`).want(t, 200))
		if !off.Disabled {
			t.Fatalf("after PATCH disabled: %+v", off)
		}
		e.do(t, "PATCH", "/v1/alerts/rules/"+rule.ID, acme, `{}`).wantError(t, 400, trail.EINVALID, "disabled")
		e.do(t, "PATCH", "/v1/alerts/rules/"+rule.ID, globex, `{"disabled":false}`).wantError(t, 404, trail.ENOTFOUND, "")
		if on := decode[trail.AlertRule](t, e.do(t, "PATCH", "/v1/alerts/rules/"+rule.ID, acme, `{"disabled":false}`).want(t, 200)); on.Disabled {
			t.Fatalf("after PATCH enabled: %+v", on)
		}
		e.do(t, "DELETE", "/v1/alerts/rules/"+rule.ID, acme, "").want(t, 200)
		e.do(t, "GET", "/v1/alerts/rules/"+rule.ID, acme, "").wantError(t, 404, trail.ENOTFOUND, "")
		if got, want := strings.Join(e.auditActions(t, "acme"), " "), "alert_rule.created alert_rule.disabled alert_rule.enabled alert_rule.deleted"; got != want {
			t.Fatalf("acme audit events = %q, want %q", got, want)
		}
	})
}

// runEvaluator runs the alert evaluator over e's store until the test ends.
func runEvaluator(t *testing.T, e *env) {
	ctx, cancel := context.WithCancel(context.Background())
	ev := alert.New(alert.Config{Store: e.store.(alert.Store), Writer: e.writer, Poll: 10 * time.Millisecond,
		AllowNetworks: loopback})
	done := make(chan error, 1)
	go func() { done <- ev.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("evaluator: %v", err)
		}
	})
	testenv.Eventually(t, 15*time.Second, "the evaluator to start", func() bool {
		cursor, _, err := e.store.(alert.Store).AlertState(ctx)
		return err == nil && cursor >= 0
	})
}

// hook is a real webhook receiver.
type hook struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
	sigs   []string
}

func newHook(t *testing.T) *hook {
	h := &hook{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if json.Valid(b) {
			h.bodies = append(h.bodies, b)
			h.sigs = append(h.sigs, r.Header.Get("X-Trail-Signature"))
		}
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hook) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.bodies)
}

func (h *hook) body() []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.bodies[0]
}

func (h *hook) signature() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sigs[0]
}
