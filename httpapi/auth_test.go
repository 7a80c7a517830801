package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
)

func TestAuth(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		reader := e.newKey(t, "acme", false, trail.ScopeEventsRead)
		writer := e.newKey(t, "acme", false, trail.ScopeEventsWrite)
		id, _ := trail.KeyIDFromSecret(reader)

		expired, expiredSecret, err := trail.NewAPIKey("old", "acme", false, []string{trail.ScopeEventsRead},
			time.Now().Add(time.Hour), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		expired.ExpiresAt = time.Now().Add(-time.Hour).UTC().Truncate(time.Microsecond)
		if err := s.CreateKey(t.Context(), expired); err != nil {
			t.Fatal(err)
		}
		revoked := e.newKey(t, "acme", false, trail.ScopeEventsRead)
		revokedID, _ := trail.KeyIDFromSecret(revoked)
		if err := s.RevokeKey(t.Context(), trail.Scope{All: true}, revokedID, time.Now()); err != nil {
			t.Fatal(err)
		}

		tests := []struct {
			name, method, path, auth string
			status                   int
			message                  string
		}{
			{"NoHeader", "GET", "/v1/events", "", 401, "missing API key"},
			{"NotBearer", "GET", "/v1/events", "Basic " + reader, 401, "malformed Authorization"},
			{"NotASecret", "GET", "/v1/events", "Bearer hello", 401, "invalid API key"},
			{"UnknownKey", "GET", "/v1/events", "Bearer trail_k_00000000000000000000_abc", 401, "invalid API key"},
			{"WrongSecret", "GET", "/v1/events", "Bearer trail_" + id + "_" + strings.Repeat("0", 64), 401, "invalid API key"},
			{"BadBytesInSecret", "GET", "/v1/events", "Bearer trail_k\xff\xfe_abc", 401, "invalid API key"},
			{"Expired", "GET", "/v1/events", "Bearer " + expiredSecret, 401, "expired"},
			{"Revoked", "GET", "/v1/events", "Bearer " + revoked, 401, "revoked"},
			{"ReadKeyWrites", "POST", "/v1/events", "Bearer " + reader, 403, "events:write"},
			{"WriteKeyReads", "GET", "/v1/events", "Bearer " + writer, 403, "events:read"},
			{"WriteKeyExports", "GET", "/v1/events/export?format=csv", "Bearer " + writer, 403, "events:read"},
			{"ReadKeyListsKeys", "GET", "/v1/keys", "Bearer " + reader, 403, "admin"},
			{"ReadKeyCreatesKeys", "POST", "/v1/keys", "Bearer " + reader, 403, "admin"},
			{"ReadKeyRevokesKeys", "DELETE", "/v1/keys/" + id, "Bearer " + reader, 403, "admin"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				resp := e.do(t, tt.method, tt.path, "", event("a.b"), "Authorization", tt.auth)
				code := map[int]string{401: trail.EUNAUTHORIZED, 403: trail.EFORBIDDEN}[tt.status]
				got := resp.wantError(t, tt.status, code, "")
				if !strings.Contains(got.Error.Message, tt.message) {
					t.Fatalf("message = %q, want it to mention %q", got.Error.Message, tt.message)
				}
				if tt.status == 401 && resp.header.Get("WWW-Authenticate") == "" {
					t.Fatal("401 without WWW-Authenticate")
				}
			})
		}
		t.Run("AdminHasEveryScope", func(t *testing.T) {
			admin := e.newKey(t, "acme", false, trail.ScopeAdmin)
			e.ingest(t, admin, event("a.b"))
			e.list(t, admin, "")
		})
		if got := e.allEvents(t); len(got) != 1 {
			t.Fatalf("%d events stored, want only the admin's 1", len(got))
		}
	})
}
