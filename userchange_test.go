package trail_test

import (
	"testing"
	"time"

	"github.com/trailhq/trail"
)

func TestManagesRole(t *testing.T) {
	for _, tt := range []struct {
		actor, target string
		want          bool
	}{
		{"owner", "owner", true}, {"owner", "member", true},
		{"admin", "owner", false}, {"admin", "admin", true}, {"admin", "member", true},
		{"member", "member", false}, {"", "member", false},
	} {
		if got := trail.ManagesRole(tt.actor, tt.target); got != tt.want {
			t.Errorf("ManagesRole(%q, %q) = %v, want %v", tt.actor, tt.target, got, tt.want)
		}
	}
}

func TestUserChangeApply(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	member := func() *trail.User { return &trail.User{ID: "u_1", Email: "m@example.com", Role: trail.RoleMember} }
	t.Run("ErrAdminMakesOwner", func(t *testing.T) {
		c := trail.UserChange{Role: trail.RoleOwner}
		if code := trail.ErrorCode(c.Apply(trail.RoleAdmin, member(), now)); code != trail.EFORBIDDEN {
			t.Fatalf("code %q, want forbidden", code)
		}
	})
	t.Run("DeactivateDropsReset", func(t *testing.T) {
		u, off := member(), false
		u.ResetHash = "h"
		c := trail.UserChange{Active: &off}
		if err := c.Apply(trail.RoleAdmin, u, now); err != nil || u.Active() || u.ResetHash != "" {
			t.Fatalf("err %v, active %v, reset %q", err, u.Active(), u.ResetHash)
		}
		if _, err := trail.NewPasswordReset(u, now); trail.ErrorCode(err) != trail.ECONFLICT {
			t.Fatalf("a deactivated user got a reset: %v", err)
		}
	})
	t.Run("ErrValidate", func(t *testing.T) {
		for _, c := range []trail.UserChange{{}, {Role: "root"}, {Email: "x"}} {
			if trail.ErrorCode(c.Validate()) != trail.EINVALID {
				t.Errorf("Validate(%+v) accepted", c)
			}
		}
	})
}
