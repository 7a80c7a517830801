package httpapi_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/httpapi"
)

// authFailure is the metadata of an api_key.authentication_failed event.
type authFailure struct {
	Count         int            `json:"count"`
	Reasons       map[string]int `json:"reasons"`
	KeyID         string         `json:"key_id"`
	MissingScopes []string       `json:"missing_scopes"`
	Routes        []string       `json:"routes"`
	Overflow      string         `json:"overflow"`
}

// authFailures flushes the API's counts and returns the events recorded,
// by tenant and key id.
func (e *env) authFailures(tb testing.TB) map[string]*trail.Event {
	tb.Helper()
	if err := e.api.FlushAuthFailures(tb.Context()); err != nil {
		tb.Fatal(err)
	}
	page, err := e.store.Events(tb.Context(), &trail.Query{Scope: trail.Scope{All: true},
		Actions: []string{httpapi.ActionAuthFailed}, Limit: trail.MaxLimit})
	if err != nil {
		tb.Fatal(err)
	}
	got := map[string]*trail.Event{}
	for _, ev := range page.Events {
		var m authFailure
		if err := json.Unmarshal(ev.Metadata, &m); err != nil {
			tb.Fatalf("metadata %s: %v", ev.Metadata, err)
		}
		got[ev.Tenant+"/"+m.KeyID] = ev
	}
	return got
}

func failureOf(tb testing.TB, ev *trail.Event) authFailure {
	tb.Helper()
	var m authFailure
	if ev == nil {
		tb.Fatal("no event")
	}
	json.Unmarshal(ev.Metadata, &m)
	return m
}

// TestAuthFailuresRecorded: refused API keys are recorded in the key's
// tenant when the key exists, in the operator log when it does not, with
// the reason and the client, and never the secret.
func TestAuthFailuresRecorded(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		reader := e.newKey(t, "acme", false, trail.ScopeEventsRead)
		readerID, _ := trail.KeyIDFromSecret(reader)
		revoked := e.newKey(t, "globex", false, trail.ScopeEventsRead)
		revokedID, _ := trail.KeyIDFromSecret(revoked)
		if err := s.RevokeKey(t.Context(), trail.Scope{All: true}, revokedID, time.Now()); err != nil {
			t.Fatal(err)
		}
		const unknown = "trail_k_00000000000000000000_0123456789abcdef"
		wrong := "trail_" + readerID + "_" + strings.Repeat("0", 64)
		secrets := []string{reader, revoked, unknown, wrong, "hello-not-a-trail-key"}

		e.do(t, "POST", "/v1/events", reader, event("a.b"), "User-Agent", "ci-bot/1").wantError(t, 403, trail.EFORBIDDEN, "")
		e.do(t, "GET", "/v1/keys", reader, "").wantError(t, 403, trail.EFORBIDDEN, "")
		e.do(t, "GET", "/v1/events", wrong, "").wantError(t, 401, trail.EUNAUTHORIZED, "")
		e.do(t, "GET", "/v1/events", revoked, "").wantError(t, 401, trail.EUNAUTHORIZED, "")
		e.do(t, "GET", "/v1/events", unknown, "").wantError(t, 401, trail.EUNAUTHORIZED, "")
		e.do(t, "GET", "/v1/events", "hello-not-a-trail-key", "").wantError(t, 401, trail.EUNAUTHORIZED, "")
		e.do(t, "GET", "/v1/events", "", "").wantError(t, 401, trail.EUNAUTHORIZED, "") // no key: not recorded

		got := e.authFailures(t)
		if len(got) != 4 {
			t.Errorf("got %d events (%v), want 4", len(got), keysOf(got))
		}
		acme := got["acme/"+readerID]
		m := failureOf(t, acme)
		if m.Count != 3 || m.Reasons["missing_scope"] != 2 || m.Reasons["wrong_secret"] != 1 ||
			strings.Join(m.MissingScopes, ",") != "admin,events:write" {
			t.Errorf("acme's failures %s", acme.Metadata)
		}
		if acme.Actor.ID != readerID || acme.Context.IP != "127.0.0.1" || acme.Context.UserAgent == "" {
			t.Errorf("acme's failure actor %+v, context %+v", acme.Actor, acme.Context)
		}
		if m := failureOf(t, got["globex/"+revokedID]); m.Reasons["revoked"] != 1 || m.Count != 1 {
			t.Errorf("globex's failures %+v", m)
		}
		if m := failureOf(t, got[trail.OperatorTenant+"/k_00000000000000000000"]); m.Reasons["unknown_key"] != 1 {
			t.Errorf("unknown key's failures %+v", m)
		}
		if ev := got[trail.OperatorTenant+"/"]; ev == nil || ev.Actor.Type != "anonymous" || failureOf(t, ev).Reasons["unknown_key"] != 1 {
			t.Errorf("the failure without a key id: %+v", ev)
		}
		for _, ev := range got {
			for _, secret := range secrets {
				if strings.Contains(string(ev.Raw), secret) {
					t.Errorf("event %s holds a secret: %s", ev.ID, ev.Raw)
				}
			}
		}
		if again := e.authFailures(t); len(again) != 4 {
			t.Errorf("a flush with nothing new recorded %d events, want still 4", len(again))
		}
	})
}

// TestAuthFailureFlood: 1000 bad requests make a bounded number of events
// whose counts add up to 1000.
func TestAuthFailureFlood(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		t.Run("OneKey", func(t *testing.T) {
			const bad = "trail_k_11111111111111111111_0123456789abcdef"
			for range 1000 {
				e.do(t, "GET", "/v1/events", bad, "").wantError(t, 401, trail.EUNAUTHORIZED, "")
			}
			got := e.authFailures(t)
			if m := failureOf(t, got[trail.OperatorTenant+"/k_11111111111111111111"]); len(got) != 1 || m.Count != 1000 {
				t.Errorf("got %d events, count %d; want 1 event counting 1000", len(got), m.Count)
			}
		})
		t.Run("ManyKeys", func(t *testing.T) {
			before := len(e.authFailures(t))
			for i := range 1000 {
				e.do(t, "GET", "/v1/events", fmt.Sprintf("trail_k_%020d_00", i+2), "").wantError(t, 401, trail.EUNAUTHORIZED, "")
			}
			got := e.authFailures(t)
			total, overflow := 0, 0
			for k, ev := range got {
				if k == trail.OperatorTenant+"/k_11111111111111111111" {
					continue
				}
				m := failureOf(t, ev)
				total += m.Count
				if m.Overflow != "" {
					overflow = m.Count
				}
			}
			if n := len(got) - before; n > 101 || total != 1000 || overflow != 900 {
				t.Errorf("%d new events counting %d (overflow %d); want at most 101 counting 1000, 900 in the overflow",
					n, total, overflow)
			}
		})
	})
}

func keysOf(m map[string]*trail.Event) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
