package httpapi_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/trailhq/trail"
)

type createdKey struct {
	trail.APIKey
	Secret string `json:"secret"`
}

type keyList struct {
	Keys []json.RawMessage `json:"keys"`
}

func (e *env) createKey(tb testing.TB, secret, body string) createdKey {
	tb.Helper()
	return decode[createdKey](tb, e.do(tb, "POST", "/v1/keys", secret, body, "User-Agent", "keys-test/1").want(tb, 201))
}

func TestKeys(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		acmeAdmin := e.createKey(t, e.platform, `{"name":"acme admin","tenant":"acme","scopes":["admin"]}`)
		if acmeAdmin.Tenant != "acme" || acmeAdmin.Secret == "" || acmeAdmin.Platform {
			t.Fatalf("created key = %+v", acmeAdmin)
		}
		globexAdmin := e.createKey(t, e.platform, `{"tenant":"globex","scopes":["admin"]}`)

		t.Run("TenantAdminCreatesOwnTenantKey", func(t *testing.T) {
			k := e.createKey(t, acmeAdmin.Secret, `{"name":"ci","scopes":["events:write"],"expires_at":"2999-01-01T00:00:00Z"}`)
			if k.Tenant != "acme" || !slices.Equal(k.Scopes, []string{"events:write"}) || k.ExpiresAt.Year() != 2999 {
				t.Fatalf("created key = %+v", k)
			}
			e.ingest(t, k.Secret, event("a.b")) // the new secret works
		})
		t.Run("TenantAdminCannotEscape", func(t *testing.T) {
			e.do(t, "POST", "/v1/keys", acmeAdmin.Secret, `{"tenant":"globex","scopes":["admin"]}`).
				wantError(t, 400, trail.EINVALID, "tenant")
			e.do(t, "POST", "/v1/keys", acmeAdmin.Secret, `{"platform":true,"scopes":["admin"]}`).
				wantError(t, 403, trail.EFORBIDDEN, "")
		})
		t.Run("List", func(t *testing.T) {
			resp := e.do(t, "GET", "/v1/keys", acmeAdmin.Secret, "").want(t, 200)
			list := decode[keyList](t, resp)
			for _, raw := range list.Keys {
				var k map[string]any
				json.Unmarshal(raw, &k)
				if k["tenant"] != "acme" {
					t.Errorf("acme admin lists %v", k)
				}
				if _, ok := k["secret"]; ok {
					t.Errorf("listing shows a secret: %s", raw)
				}
			}
			if len(list.Keys) != 2 {
				t.Fatalf("acme admin lists %d keys, want 2", len(list.Keys))
			}
			all := decode[keyList](t, e.do(t, "GET", "/v1/keys", e.platform, "").want(t, 200))
			if len(all.Keys) != 4 {
				t.Fatalf("platform admin lists %d keys, want 4", len(all.Keys))
			}
		})
		t.Run("Revoke", func(t *testing.T) {
			victim := e.createKey(t, acmeAdmin.Secret, `{"scopes":["events:read"]}`)
			e.list(t, victim.Secret, "")
			e.do(t, "DELETE", "/v1/keys/"+victim.ID, globexAdmin.Secret, "").wantError(t, 404, trail.ENOTFOUND, "")
			e.list(t, victim.Secret, "") // still works after the failed attempt
			got := decode[trail.APIKey](t, e.do(t, "DELETE", "/v1/keys/"+victim.ID, acmeAdmin.Secret, "",
				"User-Agent", "keys-test/1").want(t, 200))
			if got.RevokedAt.IsZero() {
				t.Fatalf("revoked key = %+v", got)
			}
			e.do(t, "GET", "/v1/events", victim.Secret, "").wantError(t, 401, trail.EUNAUTHORIZED, "")
			again := decode[trail.APIKey](t, e.do(t, "DELETE", "/v1/keys/"+victim.ID, acmeAdmin.Secret, "").want(t, 200))
			if !again.RevokedAt.Equal(got.RevokedAt) {
				t.Fatalf("second revoke moved revoked_at from %v to %v", got.RevokedAt, again.RevokedAt)
			}
			e.do(t, "DELETE", "/v1/keys/k_nope", acmeAdmin.Secret, "").wantError(t, 404, trail.ENOTFOUND, "")
			e.do(t, "DELETE", "/v1/keys/"+globexAdmin.ID, acmeAdmin.Secret, "").wantError(t, 404, trail.ENOTFOUND, "")
		})
		t.Run("SelfAudit", func(t *testing.T) {
			events := e.list(t, e.platform, "action=api_key.*&order=asc").Events
			var created, revoked int
			for _, ev := range events {
				if ev.Actor.Type != trail.ActorAPIKey || ev.Context.IP != "127.0.0.1" ||
					len(ev.Targets) != 1 || ev.Targets[0].Type != "api_key" {
					t.Errorf("audit event = %+v", ev)
				}
				switch ev.Action {
				case "api_key.created":
					created++
				case "api_key.revoked":
					revoked++
					acmeID, _ := trail.KeyIDFromSecret(acmeAdmin.Secret)
					if ev.Actor.ID != acmeID || ev.Tenant != "acme" || ev.Context.UserAgent != "keys-test/1" {
						t.Errorf("revocation recorded as %+v", ev)
					}
				}
			}
			if created != 4 || revoked != 1 {
				t.Fatalf("recorded %d creations and %d revocations, want 4 and 1", created, revoked)
			}
			first := events[0]
			platformID, _ := trail.KeyIDFromSecret(e.platform)
			if first.Actor.ID != platformID || first.Tenant != "acme" || first.Targets[0].ID != acmeAdmin.ID {
				t.Fatalf("first creation recorded as %+v", first)
			}
		})
	})
}

func TestKeysInvalid(t *testing.T) {
	tests := []struct{ name, body, field string }{
		{"Malformed", `{"scopes":`, "body"},
		{"UnknownField", `{"scopes":["admin"],"role":"x"}`, "role"},
		{"ScopesWrongType", `{"scopes":"admin"}`, "scopes"},
		{"PlatformWrongType", `{"scopes":["admin"],"platform":"yes"}`, "platform"},
		{"NoScopes", `{"tenant":"acme"}`, "scopes"},
		{"UnknownScope", `{"tenant":"acme","scopes":["root"]}`, "scopes"},
		{"NoTenant", `{"scopes":["admin"]}`, "tenant"},
		{"PlatformWithTenant", `{"platform":true,"tenant":"acme","scopes":["admin"]}`, "tenant"},
		{"BadExpiry", `{"tenant":"acme","scopes":["admin"],"expires_at":"soon"}`, "expires_at"},
		{"PastExpiry", `{"tenant":"acme","scopes":["admin"],"expires_at":"2001-01-01T00:00:00Z"}`, "expires_at"},
		{"NameWithNUL", `{"tenant":"acme","scopes":["admin"],"name":"a\u0000b"}`, "name"},
		{"TrailingData", `{"tenant":"acme","scopes":["admin"]} {}`, "body"},
		{"InvalidUTF8", "{\"tenant\":\"acme\",\"scopes\":[\"admin\"],\"name\":\"\xff\"}", "body"},
	}
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e.do(t, "POST", "/v1/keys", e.platform, tt.body).wantError(t, 400, trail.EINVALID, tt.field)
			})
		}
		keys, err := s.Keys(t.Context(), trail.Scope{All: true})
		if err != nil || len(keys) != 1 {
			t.Fatalf("store holds %d keys (%v), want only the platform key", len(keys), err)
		}
		if got := e.allEvents(t); len(got) != 0 {
			t.Fatalf("%d events recorded for rejected requests", len(got))
		}
	})
}
