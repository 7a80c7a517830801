package storetest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/secretbox"
)

// SecretStore is a store that seals the secrets it keeps with a secrets
// key: forwarder settings and alert rules.
type SecretStore interface {
	trail.ForwarderStore
	trail.AlertStore
	UseSecrets(*secretbox.Keyring)
	ResealSecrets(ctx context.Context) (int, error)
}

// TestSecrets checks that s keeps no secret in plain text once it has a
// secrets key: rows stored before (plain) still read and are sealed by
// ResealSecrets, new rows are sealed, and a key rotation reseals them all
// under the new key while reads go on. raw returns the stored text of the
// forwarders' settings and the alert rules, as a SQL client sees it.
func TestSecrets(t *testing.T, s SecretStore, raw func(t *testing.T) string) {
	legacy := newForwarder("acme", "legacy", 0)
	legacy.Token, legacy.Secret = "legacy-token-4f1c", "whsec_bGVnYWN5LXNpZ25pbmctc2VjcmV0"
	legacyRule := newRule("r-legacy", "acme", 0)
	legacyRule.Webhook.Secret = "legacy-alert-secret-9d2e"
	if err := s.CreateForwarder(ctx(t), legacy, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAlertRule(ctx(t), legacyRule); err != nil {
		t.Fatal(err)
	}
	if got := raw(t); !strings.Contains(got, "legacy-token-4f1c") {
		t.Fatalf("precondition: a store without a key stores plain text, raw read: %s", got)
	}

	k, err := secretbox.LoadOrCreate(filepath.Join(t.TempDir(), secretbox.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	s.UseSecrets(k)
	wantSecrets(t, s, legacy, legacyRule) // plain rows read before they are sealed
	if n, err := s.ResealSecrets(ctx(t)); err != nil || n != 2 {
		t.Fatalf("ResealSecrets = %d, %v; want the 2 plain rows", n, err)
	}

	f := newForwarder("acme", "sealed", 1)
	f.Token, f.Secret = "new-token-77ab", "whsec_bmV3LXNpZ25pbmctc2VjcmV0LXNlY3JldA"
	rule := newRule("r-new", "acme", 1)
	rule.Webhook.Secret = "new-alert-secret-1b3f"
	if err := s.CreateForwarder(ctx(t), f, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAlertRule(ctx(t), rule); err != nil {
		t.Fatal(err)
	}
	f.Token = "updated-token-c0de"
	if err := s.UpdateForwarder(ctx(t), f); err != nil {
		t.Fatal(err)
	}
	secrets := []string{legacy.Token, legacy.Secret, legacyRule.Webhook.Secret, f.Token, f.Secret, rule.Webhook.Secret,
		"bmV3LXNpZ25pbmc", "hooks.example.com"}
	t.Run("NoPlainText", func(t *testing.T) { wantNone(t, raw(t), secrets...) })
	t.Run("Reads", func(t *testing.T) { wantSecrets(t, s, legacy, legacyRule, f, rule) })

	t.Run("Rotate", func(t *testing.T) {
		oldID := k.CurrentID()
		if _, err := k.Rotate(); err != nil {
			t.Fatal(err)
		}
		wantSecrets(t, s, legacy, legacyRule, f, rule) // both keys open during the rotation
		if n, err := s.ResealSecrets(ctx(t)); err != nil || n != 4 {
			t.Fatalf("ResealSecrets after Rotate = %d, %v; want all 4 rows", n, err)
		}
		if n, err := s.ResealSecrets(ctx(t)); err != nil || n != 0 {
			t.Fatalf("ResealSecrets again = %d, %v; want 0", n, err)
		}
		if err := k.DropOld(); err != nil {
			t.Fatal(err)
		}
		got := raw(t)
		wantNone(t, got, append(secrets, "tsec1:"+oldID)...)
		if !strings.Contains(got, "tsec1:"+k.CurrentID()) {
			t.Errorf("no row sealed with the new key %s: %s", k.CurrentID(), got)
		}
		wantSecrets(t, s, legacy, legacyRule, f, rule)
	})
}

func wantNone(t *testing.T, raw string, secrets ...string) {
	t.Helper()
	for _, sec := range secrets {
		if strings.Contains(raw, sec) {
			t.Errorf("a raw read of the store shows %q", sec)
		}
	}
}

// wantSecrets reads back forwarders and rules (given in pairs of a
// forwarder and a rule) and checks their secrets.
func wantSecrets(t *testing.T, s SecretStore, items ...any) {
	t.Helper()
	for _, it := range items {
		switch want := it.(type) {
		case *trail.Forwarder:
			got, err := s.Forwarder(ctx(t), want.Tenant, want.Name)
			if err != nil {
				t.Fatalf("read forwarder %s: %v", want.Name, err)
			}
			if got.Token != want.Token || got.Secret != want.Secret || got.URI != want.URI {
				t.Errorf("forwarder %s read token %q secret %q uri %q, want %q %q %q", want.Name,
					got.Token, got.Secret, got.URI, want.Token, want.Secret, want.URI)
			}
		case *trail.AlertRule:
			got, err := s.AlertRule(ctx(t), trail.Scope{All: true}, want.ID)
			if err != nil {
				t.Fatalf("read alert rule %s: %v", want.ID, err)
			}
			if got.Webhook.Secret != want.Webhook.Secret {
				t.Errorf("rule %s read secret %q, want %q", want.ID, got.Webhook.Secret, want.Webhook.Secret)
			}
		}
	}
}
