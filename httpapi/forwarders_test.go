package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/trailhq/trail"
	"github.com/trailhq/trail/forward"
	"github.com/trailhq/trail/internal/testenv"
)

type forwarderList struct {
	Forwarders []trail.Forwarder `json:"forwarders"`
}

func TestForwardersAPI(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		acme := e.newKey(t, "acme", false, trail.ScopeAdmin)
		globex := e.newKey(t, "globex", false, trail.ScopeAdmin)
		body := `{"name":"siem","kind":"webhook","uri":"https://siem.example.com/audit","token":"THE-SECRET-TOKEN",
			"filter":{"actions":["user.*"]}}`
		created := decode[trail.Forwarder](t, e.do(t, "POST", "/v1/forwarders", acme, body).want(t, 201))
		if created.Tenant != "acme" || !strings.HasPrefix(created.Secret, "whsec_") || created.Token != "****OKEN" ||
			created.Method != "POST" || created.ManagedBy != trail.ManagedByAPI || created.Status.State != trail.ForwarderActive {
			t.Fatalf("created = %+v", created)
		}

		got := decode[trail.Forwarder](t, e.do(t, "GET", "/v1/forwarders/siem", acme, "").want(t, 200))
		if got.ID != created.ID || got.Secret == created.Secret || !strings.HasPrefix(got.Secret, "****") ||
			got.Token != "****OKEN" || got.Status == nil {
			t.Errorf("GET = %+v, want the forwarder with its secrets redacted", got)
		}
		e.do(t, "GET", "/v1/forwarders/siem", globex, "").wantError(t, 404, trail.ENOTFOUND, "")
		e.do(t, "GET", "/v1/forwarders/siem?tenant=acme", globex, "").wantError(t, 400, trail.EINVALID, "tenant")
		e.do(t, "GET", "/v1/forwarders/siem?tenant=acme", e.platform, "").want(t, 200)
		if l := decode[forwarderList](t, e.do(t, "GET", "/v1/forwarders", globex, "").want(t, 200)); len(l.Forwarders) != 0 {
			t.Errorf("globex sees %d forwarders, want none", len(l.Forwarders))
		}
		if l := decode[forwarderList](t, e.do(t, "GET", "/v1/forwarders", e.platform, "").want(t, 200)); len(l.Forwarders) != 1 {
			t.Errorf("platform key sees %d forwarders, want 1", len(l.Forwarders))
		}

		patched := decode[trail.Forwarder](t, e.do(t, "PATCH", "/v1/forwarders/siem", acme,
			`{"uri":"https://siem2.example.com/audit","timeout":"2s"}`).want(t, 200))
		if patched.URI != "https://siem2.example.com/audit" || patched.Timeout.Std() != 2*time.Second ||
			!strings.HasPrefix(patched.Secret, "****") {
			t.Errorf("PATCH = %+v", patched)
		}
		rotated := decode[trail.Forwarder](t, e.do(t, "PATCH", "/v1/forwarders/siem", acme, `{"secret":null}`).want(t, 200))
		if !strings.HasPrefix(rotated.Secret, "whsec_") || rotated.Secret == created.Secret {
			t.Errorf("rotated secret = %q, want a new one shown whole", rotated.Secret)
		}
		if !strings.HasPrefix(rotated.PreviousSecret, "****") || rotated.PreviousSecretUntil.Before(time.Now().Add(23*time.Hour)) {
			t.Errorf("after rotation previous_secret %q until %v, want it redacted and kept for the 24h grace",
				rotated.PreviousSecret, rotated.PreviousSecretUntil)
		}
		e.do(t, "DELETE", "/v1/forwarders/siem", acme, "").want(t, 204)
		e.do(t, "GET", "/v1/forwarders/siem", acme, "").wantError(t, 404, trail.ENOTFOUND, "")

		var audit []string
		for _, ev := range e.allEvents(t) {
			if strings.HasPrefix(ev.Action, "forwarder.") && ev.Tenant == "acme" {
				audit = append(audit, ev.Action+" "+string(ev.Metadata))
			}
		}
		want := []string{
			`forwarder.created {"kind":"webhook","managed_by":"api"}`,
			`forwarder.updated {"changed":["timeout","uri"],"kind":"webhook","managed_by":"api"}`,
			`forwarder.updated {"changed":["secret"],"kind":"webhook","managed_by":"api"}`,
			`forwarder.deleted {"kind":"webhook","managed_by":"api"}`,
		}
		if strings.Join(audit, "\n") != strings.Join(want, "\n") {
			t.Errorf("audit events:\n%s\nwant:\n%s", strings.Join(audit, "\n"), strings.Join(want, "\n"))
		}
	})
}

func TestForwardersAPIErrors(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		acme := e.newKey(t, "acme", false, trail.ScopeAdmin)
		reader := e.newKey(t, "acme", false, trail.ScopeEventsRead)
		ok := `{"name":"siem","kind":"webhook","uri":"https://siem.example.com"}`
		e.do(t, "POST", "/v1/forwarders", reader, ok).wantError(t, 403, trail.EFORBIDDEN, "")
		e.do(t, "POST", "/v1/forwarders", acme, `{"name":"siem","kind":"webhook","uri":"https://x.example.com","method":"GET"}`).
			wantError(t, 400, trail.EINVALID, "method")
		e.do(t, "POST", "/v1/forwarders", acme, `{"name":"siem","kind":"webhook","uri":"https://x.example.com","tenant":"globex"}`).
			wantError(t, 400, trail.EINVALID, "tenant")
		e.do(t, "POST", "/v1/forwarders", acme, `{"name":"siem","kind":"webhook","uri":"https://x.example.com","id":"x"}`).
			wantError(t, 400, trail.EINVALID, "body")
		e.do(t, "POST", "/v1/forwarders", acme, `{"name":"siem","kind":"webhook","urii":"x"}`).
			wantError(t, 400, trail.EINVALID, "urii")
		e.do(t, "POST", "/v1/forwarders", acme, `{"name":"siem","kind":"webhook","uri":"https://x.example.com","previous_secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}`).
			wantError(t, 400, trail.EINVALID, "previous_secret")
		e.do(t, "POST", "/v1/forwarders", acme, `{"name":"siem","kind":"webhook","uri":"https://x.example.com","secret_grace":"2000h"}`).
			wantError(t, 400, trail.EINVALID, "secret_grace")
		e.do(t, "POST", "/v1/forwarders", acme, ok).want(t, 201)
		e.do(t, "POST", "/v1/forwarders", acme, ok).wantError(t, 409, trail.ECONFLICT, "")
		e.do(t, "PATCH", "/v1/forwarders/siem", acme, `{"previous_secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}`).
			wantError(t, 400, trail.EINVALID, "previous_secret")
		e.do(t, "PATCH", "/v1/forwarders/siem", acme, `{"previous_secret_until":"2030-01-01T00:00:00Z"}`).
			wantError(t, 400, trail.EINVALID, "previous_secret_until")
		e.do(t, "PATCH", "/v1/forwarders/siem", acme, `{"kind":"splunk"}`).wantError(t, 400, trail.EINVALID, "kind")
		e.do(t, "PATCH", "/v1/forwarders/siem", acme, `{"filter":{"tenants":["globex"]}}`).
			wantError(t, 400, trail.EINVALID, "filter.tenants[0]")
		e.do(t, "GET", "/v1/forwarders/siem/dead-letters?limit=0", acme, "").wantError(t, 400, trail.EINVALID, "limit")
		e.do(t, "POST", "/v1/forwarders/siem/dead-letters/replay", acme, `{"event_ids":["nope"]}`).
			wantError(t, 400, trail.EINVALID, "event_ids[0]")

		err := forward.Sync(t.Context(), s.(forward.Store), []trail.Forwarder{
			{Name: "from-config", Kind: trail.ForwarderWebhook, URI: "https://c.example.com"}},
			trail.Actor{Type: trail.ActorSystem, ID: "config"}, trail.Context{}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		e.do(t, "PATCH", "/v1/forwarders/from-config", e.platform, `{"uri":"https://d.example.com"}`).
			wantError(t, 409, trail.ECONFLICT, "")
		e.do(t, "DELETE", "/v1/forwarders/from-config", e.platform, "").wantError(t, 409, trail.ECONFLICT, "")
		e.do(t, "GET", "/v1/forwarders/from-config", e.platform, "").want(t, 200)
	})
}

type deadLetterPage struct {
	DeadLetters []trail.DeadLetter `json:"dead_letters"`
	NextCursor  string             `json:"next_cursor"`
}

// TestForwarderDeadLettersAPI runs a real forwarder against a receiver that
// rejects events at first, then lists and replays its dead letters through
// the API, and reads its status and lag.
func TestForwarderDeadLettersAPI(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s, allowLoopback)
		var accept atomic.Bool
		rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !accept.Load() {
				w.WriteHeader(http.StatusUnprocessableEntity)
			}
		}))
		defer rc.Close()
		acme := e.newKey(t, "acme", false, trail.ScopeAdmin, trail.ScopeEventsWrite)
		e.do(t, "POST", "/v1/forwarders", acme, `{"name":"siem","kind":"webhook","uri":"`+rc.URL+`","filter":{"actions":["user.*"]}}`).want(t, 201)
		runManager(t, s)
		e.ingest(t, acme, batch(event("user.created"), event("user.deleted"), event("user.updated")))

		var page deadLetterPage
		testenv.Eventually(t, 15*time.Second, "three dead letters", func() bool {
			page = decode[deadLetterPage](t, e.do(t, "GET", "/v1/forwarders/siem/dead-letters?limit=2", acme, "").want(t, 200))
			return page.NextCursor != ""
		})
		if len(page.DeadLetters) != 2 || page.DeadLetters[0].Action != "user.created" || page.DeadLetters[0].Attempts != 1 {
			t.Fatalf("first page = %+v", page)
		}
		// A tenant's cursor is its own event's id, not a stream position.
		if page.NextCursor != page.DeadLetters[1].EventID {
			t.Errorf("next_cursor %q, want the last dead letter's event id", page.NextCursor)
		}
		e.do(t, "GET", "/v1/forwarders/siem/dead-letters?cursor=12", acme, "").wantError(t, 400, trail.EINVALID, "cursor")
		rest := decode[deadLetterPage](t, e.do(t, "GET", "/v1/forwarders/siem/dead-letters?cursor="+page.NextCursor, acme, "").want(t, 200))
		if len(rest.DeadLetters) != 1 || rest.NextCursor != "" {
			t.Fatalf("second page = %+v", rest)
		}
		st := decode[trail.Forwarder](t, e.do(t, "GET", "/v1/forwarders/siem", acme, "").want(t, 200)).Status
		if st.State != trail.ForwarderFailing || !strings.Contains(st.LastError, "422") {
			t.Errorf("status = %+v, want failing with the 422", st)
		}

		accept.Store(true)
		replay := `{"event_ids":["` + page.DeadLetters[0].EventID + `"]}`
		got := decode[struct{ Replaying int }](t, e.do(t, "POST", "/v1/forwarders/siem/dead-letters/replay", acme, replay).want(t, 202))
		if got.Replaying != 1 {
			t.Fatalf("replaying %d, want 1", got.Replaying)
		}
		testenv.Eventually(t, 15*time.Second, "the replayed dead letter to leave the list", func() bool {
			l := decode[deadLetterPage](t, e.do(t, "GET", "/v1/forwarders/siem/dead-letters", acme, "").want(t, 200))
			return len(l.DeadLetters) == 2
		})
		e.do(t, "POST", "/v1/forwarders/siem/dead-letters/replay", acme, "").want(t, 202)
		testenv.Eventually(t, 15*time.Second, "an empty dead-letter list, active and no lag", func() bool {
			l := decode[deadLetterPage](t, e.do(t, "GET", "/v1/forwarders/siem/dead-letters", acme, "").want(t, 200))
			st := decode[trail.Forwarder](t, e.do(t, "GET", "/v1/forwarders/siem", acme, "").want(t, 200)).Status
			return len(l.DeadLetters) == 0 && st.State == trail.ForwarderActive && st.Lag == 0
		})
	})
}

// runManager drives the store's forwarders with short intervals until the
// test ends.
func runManager(t *testing.T, s trail.Store) {
	m := forward.New(forward.Config{Store: s.(forward.Store), Holder: "test", Registry: prometheus.NewRegistry(),
		Poll: 20 * time.Millisecond, Refresh: 20 * time.Millisecond, AllowNetworks: loopback})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); m.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// TestForwarderStatusTenantTerms: a tenant's forwarder shows its progress
// in its tenant's terms only, so another tenant's volume never shows in
// its cursor or lag; an operator forwarder keeps stream positions.
func TestForwarderStatusTenantTerms(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		acme := e.newKey(t, "acme", false, trail.ScopeAdmin)
		globex := e.newKey(t, "globex", false, trail.ScopeEventsWrite)
		e.ingest(t, acme, batch(event("doc.viewed"), event("doc.viewed")))
		e.do(t, "POST", "/v1/forwarders", e.platform, `{"name":"ops","kind":"webhook","uri":"https://ops.example.com/a"}`).want(t, 201)
		e.do(t, "POST", "/v1/forwarders", acme, `{"name":"siem","kind":"webhook","uri":"https://siem.example.com/a"}`).want(t, 201)
		statusOf := func(secret, path string) trail.ForwarderStatus {
			t.Helper()
			return *decode[trail.Forwarder](t, e.do(t, "GET", path, secret, "").want(t, 200)).Status
		}
		before, opsBefore := statusOf(acme, "/v1/forwarders/siem"), statusOf(e.platform, "/v1/forwarders/ops")
		// acme's log held 2 events when the forwarder started; its creation
		// came after.
		if before.Cursor != 2 || before.Lag != 1 {
			t.Errorf("acme status at creation: cursor %d, lag %d; want 2 (acme's events before it), 1", before.Cursor, before.Lag)
		}

		var evs []string
		for range 137 {
			evs = append(evs, event("doc.viewed"))
		}
		e.ingest(t, globex, batch(evs...))
		after := statusOf(acme, "/v1/forwarders/siem")
		if after.Cursor != before.Cursor || after.Lag != before.Lag {
			t.Errorf("after globex stored 137 events, acme's cursor %d -> %d and lag %d -> %d; want no change",
				before.Cursor, after.Cursor, before.Lag, after.Lag)
		}
		listed := decode[forwarderList](t, e.do(t, "GET", "/v1/forwarders", acme, "").want(t, 200)).Forwarders[0].Status
		if listed.Cursor != after.Cursor || listed.Lag != after.Lag {
			t.Errorf("listed status %+v, want %+v", listed, after)
		}
		e.ingest(t, acme, batch(event("doc.viewed"), event("doc.viewed"), event("doc.viewed")))
		if got := statusOf(acme, "/v1/forwarders/siem"); got.Cursor != before.Cursor || got.Lag != before.Lag+3 {
			t.Errorf("after acme stored 3 events: cursor %d, lag %d; want %d, %d", got.Cursor, got.Lag, before.Cursor, before.Lag+3)
		}
		if got := statusOf(e.platform, "/v1/forwarders/ops"); got.Lag < opsBefore.Lag+140 {
			t.Errorf("operator forwarder lag %d -> %d, want the whole stream's 140 more", opsBefore.Lag, got.Lag)
		}
	})
}
