package forward_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/trailhq/trail"
	"github.com/trailhq/trail/forward"
	"github.com/trailhq/trail/internal/testenv"
)

// TestSecretRotationGrace: after the signing secret is rotated, a receiver
// still verifying with the old secret (with the official Standard
// Webhooks library) keeps accepting deliveries during the grace period,
// and refuses them once it is over.
func TestSecretRotationGrace(t *testing.T) {
	tests := []struct {
		name      string
		rotatedAt time.Time // the rotation's clock; the grace is the default 24h
		accepted  bool
	}{
		{"OKDuringGrace", time.Now(), true},
		{"ErrAfterGrace", time.Now().Add(-25 * time.Hour), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := MustOpenStore(t)
			var oldSecret string
			rc := NewReceiver(t, func(_ int, r *http.Request, body []byte) int {
				wh, err := standardwebhooks.NewWebhook(oldSecret)
				if err != nil {
					t.Errorf("receiver: %v", err)
					return http.StatusInternalServerError
				}
				if err := wh.Verify(body, r.Header); err != nil {
					return http.StatusUnauthorized
				}
				return http.StatusNoContent
			})
			f := MustCreate(t, s, &trail.Forwarder{Name: "hook", Kind: trail.ForwarderWebhook, URI: rc.URL})
			oldSecret = f.Secret
			next, err := forward.Patch(f, []byte(`{"secret": null}`), tt.rotatedAt)
			if err != nil {
				t.Fatal(err)
			}
			if next.Secret == oldSecret || next.PreviousSecret != oldSecret {
				t.Fatalf("rotation: secret changed %v, previous secret kept %v", next.Secret != oldSecret, next.PreviousSecret == oldSecret)
			}
			if err := s.UpdateForwarder(context.Background(), next); err != nil {
				t.Fatal(err)
			}
			StartManager(t, s, "node")
			MustAppend(t, s, "acme", "doc.viewed")
			testenv.Eventually(t, 15*time.Second, "a delivery", func() bool { return len(rc.Requests()) >= 1 })
			sigs := strings.Fields(rc.Requests()[0].Header.Get("webhook-signature"))
			if tt.accepted {
				if len(sigs) != 2 {
					t.Errorf("signatures %q, want one by each secret", sigs)
				}
				testenv.Eventually(t, 15*time.Second, "the delivery to be acknowledged", func() bool {
					return status(t, s, "", "hook").LastSuccessAt.After(time.Time{})
				})
				checkVerifies(t, next.Secret, rc.Requests()[0])
				return
			}
			if len(sigs) != 1 {
				t.Errorf("signatures %q after the grace period, want the new secret's only", sigs)
			}
			checkVerifies(t, next.Secret, rc.Requests()[0])
			testenv.Eventually(t, 15*time.Second, "the refused event in the dead-letter list", func() bool {
				return len(deadLetters(t, s, "hook")) == 1
			})
			if e := deadLetters(t, s, "hook")[0].Error; !strings.Contains(e, "401") {
				t.Errorf("dead letter error %q, want the receiver's 401", e)
			}
		})
	}
}

// checkVerifies checks that r verifies with secret, by the official
// library.
func checkVerifies(t *testing.T, secret string, r request) {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(r.Body, r.Header); err != nil {
		t.Errorf("not signed by the new secret: %v", err)
	}
}

// TestPatchSecretGrace: the previous secret is kept for secret_grace, can
// be dropped at once with null, and is never shown whole.
func TestPatchSecretGrace(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f := &trail.Forwarder{Name: "hook", Kind: trail.ForwarderWebhook, URI: "https://example.com/hook"}
	if err := forward.Prepare(f); err != nil {
		t.Fatal(err)
	}
	next, err := forward.Patch(f, []byte(`{"secret": null, "secret_grace": "2h"}`), now)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := next.PreviousSecretUntil, now.Add(2*time.Hour); !got.Equal(want) || next.PreviousSecret != f.Secret {
		t.Errorf("previous secret until %v, want %v", got, want)
	}
	if got := next.SigningSecrets(now.Add(time.Hour)); len(got) != 2 {
		t.Errorf("signing secrets within the grace: %d, want 2", len(got))
	}
	if got := next.SigningSecrets(now.Add(2 * time.Hour)); len(got) != 1 || got[0] != next.Secret {
		t.Errorf("signing secrets after the grace: %d, want the new one", len(got))
	}
	if r := next.Redacted(); strings.Contains(r.PreviousSecret, f.Secret[6:20]) {
		t.Errorf("redacted previous secret shows it: %s", r.PreviousSecret)
	}
	again, err := forward.Patch(next, []byte(`{"timeout": "3s"}`), now)
	if err != nil || again.PreviousSecret != f.Secret {
		t.Fatalf("a later patch dropped the previous secret: %v", err)
	}
	dropped, err := forward.Patch(next, []byte(`{"previous_secret": null}`), now)
	if err != nil || dropped.PreviousSecret != "" || !dropped.PreviousSecretUntil.IsZero() {
		t.Errorf("previous_secret null: %+v, %v; want it gone", dropped, err)
	}
	for _, body := range []string{`{"previous_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}`,
		`{"previous_secret_until": "2030-01-01T00:00:00Z"}`, `{"secret_grace": "1000h"}`} {
		if _, err := forward.Patch(next, []byte(body), now); trail.ErrorCode(err) != trail.EINVALID {
			t.Errorf("patch %s: %v, want EINVALID", body, err)
		}
	}
}

// TestSyncRotatesSecret: a new secret in the config file keeps the old
// one for the grace period, like a rotation through the API, and a sync
// that changes nothing keeps it too.
func TestSyncRotatesSecret(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStore(t)
	const oldSecret, newSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"
	cfg := []trail.Forwarder{{Name: "siem", Kind: trail.ForwarderWebhook, URI: "https://a.example.com", Secret: oldSecret,
		SecretGrace: trail.Duration(time.Hour)}}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	if err := forward.Sync(ctx, s, cfg, configActor, trail.Context{}, now); err != nil {
		t.Fatal(err)
	}
	cfg[0].Secret = newSecret
	for range 2 {
		if err := forward.Sync(ctx, s, cfg, configActor, trail.Context{}, now); err != nil {
			t.Fatal(err)
		}
		f, err := s.Forwarder(ctx, "", "siem")
		if err != nil || f.Secret != newSecret || f.PreviousSecret != oldSecret || !f.PreviousSecretUntil.Equal(now.Add(time.Hour)) {
			t.Fatalf("after sync: secret %v, previous %v until %v (%v)", f.Secret == newSecret, f.PreviousSecret == oldSecret,
				f.PreviousSecretUntil, err)
		}
	}
}
