package forward_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/forward"
	"github.com/trailhq/trail/internal/testenv"
)

// TestDeriveName: a forwarder given without a name (as Chainloop's
// auditLogForwarders values are) gets one from its kind and host.
func TestDeriveName(t *testing.T) {
	for _, tt := range []struct {
		f    trail.Forwarder
		want string
	}{
		{trail.Forwarder{Kind: "webhook", URI: "https://SIEM.example.com:8443/audit"}, "webhook-siem.example.com"},
		{trail.Forwarder{Kind: "syslog", URI: "tls://logs.example.com:6514"}, "syslog-logs.example.com"},
		{trail.Forwarder{Kind: "webhook", URI: "http://[::1]:80/"}, "webhook---1"},
		{trail.Forwarder{Kind: "webhook", URI: ""}, "webhook"},
	} {
		if got := forward.DeriveName(&tt.f); got != tt.want {
			t.Errorf("DeriveName(%s %s) = %q, want %q", tt.f.Kind, tt.f.URI, got, tt.want)
		}
		f := tt.f
		if tt.f.URI != "" {
			if err := forward.Prepare(&f); err != nil && f.Name != tt.want {
				t.Errorf("Prepare named it %q: %v", f.Name, err)
			}
		}
	}
}

// TestSyncWithoutNames applies nameless config forwarders twice: the second
// start finds the same forwarders (no change), and two nameless forwarders
// to one host are refused with a hint.
func TestSyncWithoutNames(t *testing.T) {
	s := MustOpenStore(t)
	ctx := context.Background()
	cfg := []trail.Forwarder{
		{Kind: "webhook", URI: "https://siem.example.com/audit", Token: "t", Method: "POST"},
		{Kind: "webhook", URI: "https://other.example.com/audit"},
	}
	for range 2 {
		if err := forward.Sync(ctx, s, cfg, configActor, trail.Context{}, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	fs, err := s.Forwarders(ctx, trail.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 || fs[0].Name == fs[1].Name {
		t.Fatalf("got %d forwarders: %+v", len(fs), fs)
	}
	dup := append(cfg, trail.Forwarder{Kind: "webhook", URI: "https://siem.example.com/other"})
	err = forward.ValidateConfig(dup)
	if err == nil || !strings.Contains(err.Error(), "forwarders[2].name") {
		t.Errorf("two nameless forwarders to one host: %v", err)
	}
}

// TestUserAgent: a forwarder's user_agent replaces Trail's User-Agent.
func TestUserAgent(t *testing.T) {
	s := MustOpenStore(t)
	rc := NewReceiver(t, nil)
	MustCreate(t, s, &trail.Forwarder{Name: "ua", Kind: trail.ForwarderWebhook, URI: rc.URL, UserAgent: "chainloop-audit/1.0"})
	StartManager(t, s, "node-1")
	MustAppend(t, s, "acme", "user.created")
	testenv.Eventually(t, 15*time.Second, "a delivery", func() bool { return len(rc.Requests()) >= 1 })
	if got := rc.Requests()[0].Header.Get("User-Agent"); got != "chainloop-audit/1.0" {
		t.Errorf("User-Agent = %q", got)
	}
}
