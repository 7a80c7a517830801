package main_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
	main "github.com/trailhq/trail/cmd/trail"
	"github.com/trailhq/trail/internal/teststore"
	"github.com/trailhq/trail/sqlite"
)

// openData opens the store of data folder dir, to check what the CLI did.
func openData(tb testing.TB, dir string) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(main.DBPath(dir))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestKeysCreate(t *testing.T) {
	ctx := context.Background()
	t.Run("TenantKey", func(t *testing.T) {
		data := newData(t)
		id, secret := createKey(t, data, "--tenant", "acme", "--scopes", "events:write", "--name", "billing", "--expires", "30d")
		db := openData(t, data)
		k, err := db.Key(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !k.Authenticate(secret, time.Now()) {
			t.Error("the printed secret does not authenticate the key")
		}
		if k.Tenant != "acme" || k.Platform || k.Name != "billing" || strings.Join(k.Scopes, ",") != "events:write" {
			t.Errorf("stored key %+v", k)
		}
		if d := time.Until(k.ExpiresAt); d < 29*24*time.Hour || d > 30*24*time.Hour {
			t.Errorf("expires in %v, want 30 days", d)
		}
		e := onlyEvent(t, db, "acme", main.ActionKeyCreated)
		if e.Actor.Type != "system" || e.Actor.ID != "cli" || len(e.Targets) != 1 || e.Targets[0].ID != id {
			t.Errorf("recorded %+v", e)
		}
	})
	t.Run("PlatformKey", func(t *testing.T) {
		data := newData(t)
		id, _ := createKey(t, data, "--platform", "--scopes", "admin")
		k, err := openData(t, data).Key(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !k.Platform || k.Tenant != "" {
			t.Errorf("stored key %+v, want a platform key", k)
		}
		onlyEvent(t, openData(t, data), trail.OperatorTenant, main.ActionKeyCreated)
	})
	t.Run("HumanOutput", func(t *testing.T) {
		out := mustCLI(t, nil, "keys", "create", "--data", newData(t), "--tenant", "acme", "--scopes", "events:read")
		for _, want := range []string{"Created API key k_", "tenant acme", "shown only this once", "Authorization: Bearer trail_k_"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})
	for _, tt := range []struct {
		name string
		args []string
		want []string
	}{
		{"ErrNoTenant", []string{"--scopes", "events:read"}, []string{"--tenant", "required"}},
		{"ErrPlatformAndTenant", []string{"--platform", "--tenant", "acme", "--scopes", "admin"}, []string{"--tenant", "platform"}},
		{"ErrNoScopes", []string{"--tenant", "acme"}, []string{"--scopes"}},
		{"ErrUnknownScope", []string{"--tenant", "acme", "--scopes", "events:delete"}, []string{"--scopes", `"events:delete"`}},
		{"ErrExpires", []string{"--tenant", "acme", "--scopes", "admin", "--expires", "soon"}, []string{"--expires", "soon"}},
		{"ErrOutput", []string{"--tenant", "acme", "--scopes", "admin", "--output", "yaml"}, []string{"--output"}},
		{"ErrArgument", []string{"--tenant", "acme", "--scopes", "admin", "extra"}, []string{`"extra"`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := newData(t)
			r := runCLI(t, nil, false, append([]string{"keys", "create", "--data", data}, tt.args...)...)
			if r.code != 2 || r.stdout != "" {
				t.Errorf("exit %d with stdout %q, want exit 2 and nothing printed", r.code, r.stdout)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q does not mention %q", r.stderr, w)
				}
			}
			keys, err := openData(t, data).Keys(context.Background(), trail.Scope{All: true})
			if err != nil || len(keys) != 0 {
				t.Errorf("a failed create left %d keys (%v)", len(keys), err)
			}
		})
	}
}

// onlyEvent returns the one event of tenant with action, failing otherwise.
func onlyEvent(tb testing.TB, s trail.Store, tenant, action string) *trail.Event {
	tb.Helper()
	found := teststore.Recorded(tb, s, tenant, action)
	if len(found) != 1 {
		tb.Fatalf("tenant %q has %d %s events, want 1", tenant, len(found), action)
	}
	return found[0]
}

func TestKeysListRevoke(t *testing.T) {
	ctx := context.Background()
	data := newData(t)
	acme, _ := createKey(t, data, "--tenant", "acme", "--scopes", "events:read", "--name", "reader")
	globex, _ := createKey(t, data, "--tenant", "globex", "--scopes", "events:read")

	t.Run("Table", func(t *testing.T) {
		out := mustCLI(t, nil, "keys", "list", "--data", data)
		for _, want := range []string{"ID", "STATUS", acme, globex, "reader", "active"} {
			if !strings.Contains(out, want) {
				t.Errorf("list lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("JSONOneTenant", func(t *testing.T) {
		var got struct{ Keys []trail.APIKey }
		out := mustCLI(t, nil, "keys", "list", "--data", data, "--tenant", "globex", "--output", "json")
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Keys) != 1 || got.Keys[0].ID != globex {
			t.Errorf("got %s, want only %s", out, globex)
		}
	})
	t.Run("Revoke", func(t *testing.T) {
		// Flags may follow the key id.
		out := mustCLI(t, nil, "keys", "revoke", acme, "--data", data)
		if !strings.Contains(out, "Revoked API key "+acme) {
			t.Errorf("revoke printed %q", out)
		}
		db := openData(t, data)
		k, err := db.Key(ctx, acme)
		if err != nil || k.RevokedAt.IsZero() {
			t.Fatalf("key after revoke: %+v, %v", k, err)
		}
		onlyEvent(t, db, "acme", main.ActionKeyRevoked)
		// Revoking again changes nothing and records nothing more.
		mustCLI(t, nil, "keys", "revoke", "--data", data, acme)
		onlyEvent(t, db, "acme", main.ActionKeyRevoked)
		if out := mustCLI(t, nil, "keys", "list", "--data", data); !strings.Contains(out, "revoked") {
			t.Errorf("list does not show the revocation:\n%s", out)
		}
	})
	t.Run("ErrUnknownKey", func(t *testing.T) {
		r := runCLI(t, nil, false, "keys", "revoke", "--data", data, "k_nope")
		if r.code != 1 || !strings.Contains(r.stderr, "k_nope") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
	t.Run("DataFromEnv", func(t *testing.T) {
		out := mustCLI(t, map[string]string{"TRAIL_DATA": data}, "keys", "list")
		if !strings.Contains(out, globex) {
			t.Errorf("TRAIL_DATA not used:\n%s", out)
		}
	})
	t.Run("DataFromConfigFile", func(t *testing.T) {
		cfg := writeFile(t, "trail.yaml", "data: "+data+"\n")
		out := mustCLI(t, nil, "keys", "list", "--config", cfg)
		if !strings.Contains(out, globex) {
			t.Errorf("config file not used:\n%s", out)
		}
	})
}

// TestKeysWhileServing creates a key with the CLI while the server runs on
// the same data folder; the server accepts it at once.
func TestKeysWhileServing(t *testing.T) {
	m := startMain(t)
	_, secret := createKey(t, m.Config.Data, "--tenant", "acme", "--scopes", "events:write,events:read")
	status, body := httpDo(t, "GET", m.URL()+"/v1/events", secret, "")
	if status != 200 {
		t.Fatalf("GET /v1/events with the new key: %d %s", status, body)
	}
	if !strings.Contains(body, main.ActionKeyCreated) {
		t.Errorf("the key's creation is not in its tenant's log: %s", body)
	}
}
