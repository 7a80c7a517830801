package console_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
)

var secretRE = regexp.MustCompile(`value="(trail_k_[0-9a-f]+_[0-9a-f]+)"`)

func TestSettingsKeys(t *testing.T) {
	e := newEnv(t)
	c := e.signedIn(t, e.admin)
	_, page := e.get(t, c, "/settings")
	token := csrf(t, page)
	resp, body := e.post(t, c, "/settings/keys", url.Values{"csrf": {token}, "name": {"billing service"},
		"scopes": {"events:write", "events:read"}, "expires_days": {"30"}})
	m := secretRE.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusCreated || m == nil {
		t.Fatalf("create key: status %d, want 201 showing the secret", resp.StatusCode)
	}
	secret := m[1]
	id, _ := trail.KeyIDFromSecret(secret)
	k, err := e.db.Key(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("Created", func(t *testing.T) {
		if k.Tenant != "acme" || k.Platform || !k.Authenticate(secret, time.Now()) || !k.HasScope(trail.ScopeEventsRead) {
			t.Fatalf("stored key %+v: want an acme tenant key that the shown secret opens", k)
		}
		if d := time.Until(k.ExpiresAt); d < 29*24*time.Hour || d > 31*24*time.Hour {
			t.Fatalf("key expires in %v, want 30 days", d)
		}
		rec := e.recorded(t, "acme", "api_key.created")
		if len(rec) != 1 || rec[0].Targets[0].ID != id || rec[0].Actor.ID != e.admin.ID {
			t.Fatalf("api_key.created events %+v, want one by the admin about %s", rec, id)
		}
	})
	t.Run("SecretShownOnce", func(t *testing.T) {
		_, again := e.get(t, c, "/settings")
		if strings.Contains(again, secret) || !strings.Contains(again, id) {
			t.Fatal("the settings page shows the secret again, or not the key")
		}
	})
	t.Run("ErrBadInput", func(t *testing.T) {
		for _, form := range []url.Values{
			{"name": {"x"}, "scopes": {"root"}},
			{"name": {"x"}, "scopes": {"admin"}, "expires_days": {"-1"}},
		} {
			form.Set("csrf", token)
			resp, body := e.post(t, c, "/settings/keys", form)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `role="alert"`) {
				t.Fatalf("form %v: status %d, want 400 with a message", form, resp.StatusCode)
			}
		}
	})
	t.Run("Revoke", func(t *testing.T) {
		resp, _ := e.post(t, c, "/settings/keys/"+id+"/revoke", url.Values{"csrf": {token}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("revoke: status %d, want 303", resp.StatusCode)
		}
		k, _ := e.db.Key(context.Background(), id)
		if k.RevokedAt.IsZero() || k.Authenticate(secret, time.Now()) {
			t.Fatal("the revoked key still works")
		}
		if rec := e.recorded(t, "acme", "api_key.revoked"); len(rec) != 1 {
			t.Fatalf("%d api_key.revoked events, want 1", len(rec))
		}
	})
	t.Run("ErrOtherTenantKey", func(t *testing.T) {
		k, _, _ := trail.NewAPIKey("globex key", "globex", false, []string{trail.ScopeAdmin}, time.Time{}, time.Now())
		if err := e.db.CreateKey(context.Background(), k); err != nil {
			t.Fatal(err)
		}
		resp, _ := e.post(t, c, "/settings/keys/"+k.ID+"/revoke", url.Values{"csrf": {token}})
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("revoking globex's key: status %d, want 404", resp.StatusCode)
		}
	})
}

var whsecRE = regexp.MustCompile(`value="(whsec_[^"]+)"`)

func TestSettingsForwarders(t *testing.T) {
	e := newEnv(t)
	c := e.signedIn(t, e.owner)
	_, page := e.get(t, c, "/settings")
	token := csrf(t, page)
	resp, body := e.post(t, c, "/settings/forwarders", url.Values{"csrf": {token}, "name": {"siem"},
		"uri": {"https://hooks.example.com/trail"}, "actions": {"login.*, export.downloaded"}})
	m := whsecRE.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusCreated || m == nil {
		t.Fatalf("create webhook: status %d, want 201 showing the signing secret", resp.StatusCode)
	}
	f, err := e.db.Forwarder(context.Background(), "acme", "siem")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("Created", func(t *testing.T) {
		if f.Kind != trail.ForwarderWebhook || f.Secret != html.UnescapeString(m[1]) || strings.Join(f.Filter.Actions, ",") != "login.*,export.downloaded" {
			t.Fatalf("stored forwarder %+v", f)
		}
		rec := e.recorded(t, "acme", "forwarder.created")
		if len(rec) != 1 || rec[0].Targets[0].ID != f.ID || rec[0].Actor.ID != e.owner.ID {
			t.Fatalf("forwarder.created events %+v", rec)
		}
		_, again := e.get(t, c, "/settings/streams")
		if strings.Contains(again, m[1][:20]) || !strings.Contains(again, "hooks.example.com") {
			t.Fatal("the streams page shows the signing secret again, or not the forwarder")
		}
	})
	t.Run("ErrBadInput", func(t *testing.T) {
		for _, form := range []url.Values{
			{"name": {"siem"}, "uri": {"https://other.example.com/"}}, // name taken
			{"name": {"x2"}, "uri": {"ftp://files.example.com/"}},
			{"name": {"Bad Name"}, "uri": {"https://hooks.example.com/"}},
			{"name": {"local"}, "uri": {"http://127.0.0.1:8080/"}},           // the server's own network
			{"name": {"metadata"}, "uri": {"http://169.254.169.254/latest"}}, // cloud metadata
		} {
			form.Set("csrf", token)
			resp, body := e.post(t, c, "/settings/forwarders", form)
			if resp.StatusCode/100 != 4 || !strings.Contains(body, `role="alert"`) {
				t.Fatalf("form %v: status %d, want 4xx with a message", form, resp.StatusCode)
			}
		}
	})
	t.Run("Replay", func(t *testing.T) {
		resp, _ := e.post(t, c, "/settings/forwarders/siem/replay", url.Values{"csrf": {token}})
		if resp.StatusCode != http.StatusSeeOther || len(e.recorded(t, "acme", "forwarder.dead_letters_replayed")) != 1 {
			t.Fatalf("replay: status %d, want 303 and a recorded replay", resp.StatusCode)
		}
	})
	t.Run("ErrOtherTenant", func(t *testing.T) {
		g := e.signedIn(t, e.globex)
		_, gpage := e.get(t, g, "/settings")
		resp, _ := e.post(t, g, "/settings/forwarders/siem/delete", url.Values{"csrf": {csrf(t, gpage)}})
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("globex deleting acme's forwarder: status %d, want 404", resp.StatusCode)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		resp, _ := e.post(t, c, "/settings/forwarders/siem/delete", url.Values{"csrf": {token}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("delete: status %d, want 303", resp.StatusCode)
		}
		if _, err := e.db.Forwarder(context.Background(), "acme", "siem"); trail.ErrorCode(err) != trail.ENOTFOUND {
			t.Fatalf("after delete: %v, want not found", err)
		}
		if len(e.recorded(t, "acme", "forwarder.deleted")) != 1 {
			t.Fatal("the deletion was not recorded")
		}
	})
}
