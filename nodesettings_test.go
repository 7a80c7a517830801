package trail_test

import (
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
)

func TestFingerprintSettings(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	first, changed := trail.FingerprintSettings(nil, "n1",
		map[string]string{"addr": ":8080", "metrics_token": "s3cret-token-value", "log_level": "info"}, now)
	if changed != nil {
		t.Errorf("first start changed %v, want nothing", changed)
	}
	for name, h := range first.Hashes {
		if strings.Contains(h, "s3cret") || len(h) != 64 {
			t.Errorf("hash of %s = %q", name, h)
		}
	}
	t.Run("Same", func(t *testing.T) {
		next, changed := trail.FingerprintSettings(first, "n1",
			map[string]string{"addr": ":8080", "metrics_token": "s3cret-token-value", "log_level": "info"}, now)
		if changed != nil || next.Salt != first.Salt {
			t.Errorf("changed %v, salt %q (was %q)", changed, next.Salt, first.Salt)
		}
	})
	t.Run("Changed", func(t *testing.T) {
		_, changed := trail.FingerprintSettings(first, "n1",
			map[string]string{"addr": ":8080", "metrics_token": "other", "tls_cert": "/c.pem"}, now)
		if got, want := strings.Join(changed, ","), "log_level,metrics_token,tls_cert"; got != want {
			t.Errorf("changed %s, want %s", got, want)
		}
	})
	t.Run("SaltedPerDeployment", func(t *testing.T) {
		other, _ := trail.FingerprintSettings(nil, "n1", map[string]string{"addr": ":8080"}, now)
		if other.Hashes["addr"] == first.Hashes["addr"] {
			t.Error("two deployments hash the same value alike")
		}
	})
}
