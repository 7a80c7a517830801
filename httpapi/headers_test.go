package httpapi_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/teststore"
)

// TestRepeatedHeaders: a header that decides who is asking or whether a
// request is a retry must come once. Go reads the first of repeated
// headers and a proxy in front may read the last, so two readers would
// see two different requests; such a request is refused and stores
// nothing.
func TestRepeatedHeaders(t *testing.T) {
	e := newEnv(t, teststore.SQLite(t))
	acme := e.newKey(t, "acme", false, trail.ScopeEventsWrite, trail.ScopeEventsRead)
	globex := e.newKey(t, "globex", false, trail.ScopeEventsWrite)
	for _, tc := range []struct {
		name   string
		header http.Header
		status int
		field  string
	}{
		{"Authorization", http.Header{"Authorization": {"Bearer " + acme, "Bearer " + globex}}, 401, "Authorization"},
		{"IdempotencyKey", http.Header{"Authorization": {"Bearer " + acme}, "Idempotency-Key": {"a", "b"}}, 400, "Idempotency-Key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), "POST", e.srv.URL+"/v1/events",
				strings.NewReader(event("user.login")))
			if err != nil {
				t.Fatal(err)
			}
			req.Header = tc.header.Clone()
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.field) {
				t.Fatalf("status %d, body %s; want %d naming %s", resp.StatusCode, body, tc.status, tc.field)
			}
		})
	}
	if got := len(e.list(t, acme, "action=user.login").Events); got != 0 {
		t.Fatalf("refused requests stored %d events", got)
	}
}
