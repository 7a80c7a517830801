package main_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/trailhq/trail"
)

func TestUsersLifecycle(t *testing.T) { forEachCLIStore(t, testUsersLifecycle) }

func testUsersLifecycle(t *testing.T, st cliStore) {
	for _, u := range [][2]string{{"o@example.com", "owner"}, {"m@example.com", "member"}} {
		if r := usersCLI(t, userPassword+"\n", append([]string{"create", "--tenant", "acme", "--email", u[0],
			"--role", u[1], "--password-stdin"}, st.args...)...); r.code != 0 {
			t.Fatalf("create %s: %s", u[0], r.stderr)
		}
	}
	cli := func(t *testing.T, args ...string) result {
		t.Helper()
		return usersCLI(t, "", append(args[:1:1], append(append([]string{"--tenant", "acme"}, st.args...), args[1:]...)...)...)
	}
	stored := func(t *testing.T) *trail.User {
		t.Helper()
		db := st.open(t)
		u, err := db.UserByEmail(context.Background(), "acme", "m@example.com")
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	t.Run("Get", func(t *testing.T) {
		r := cli(t, "get", "--user", "m@example.com", "--output", "json")
		var u trail.User
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &u) != nil || u.Role != "member" {
			t.Fatalf("exit %d: %s %s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("UpdateRole", func(t *testing.T) {
		r := cli(t, "update", "--user", "m@example.com", "--role", "admin")
		if r.code != 0 || !strings.Contains(r.stdout, "admin of acme") {
			t.Fatalf("exit %d: %s %s", r.code, r.stdout, r.stderr)
		}
		e := onlyEvent(t, st.open(t), "acme", trail.ActionUserRoleChanged)
		if e.Actor.Type != trail.ActorSystem || string(e.Metadata) != `{"after":"admin","before":"member"}` {
			t.Fatalf("user.role_changed %+v", e)
		}
	})
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"ErrNoUser", []string{"get"}, 2, "--user: required"},
		{"ErrUnknownUser", []string{"get", "--user", "x@example.com"}, 1, "has no user"},
		{"ErrRole", []string{"update", "--user", "m@example.com", "--role", "root"}, 2, "--role: must be owner, admin or member"},
		{"ErrNothingToChange", []string{"update", "--user", "m@example.com"}, 2, "give --role or --email"},
		{"ErrLastOwner", []string{"deactivate", "--user", "o@example.com"}, 1, "last owner"},
		{"ErrLastOwnerDelete", []string{"delete", "--user", "o@example.com"}, 1, "last owner"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cli(t, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d mentioning %q", r.code, r.stderr, tc.code, tc.want)
			}
		})
	}
	t.Run("ResetPassword", func(t *testing.T) {
		r := cli(t, "reset-password", "--user", "m@example.com", "--output", "json")
		var out struct{ Token, Path string }
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &out) != nil || !strings.Contains(out.Path, out.Token) {
			t.Fatalf("exit %d: %s %s", r.code, r.stdout, r.stderr)
		}
		if u := stored(t); u.ResetHash != trail.HashSessionToken(out.Token) {
			t.Fatal("the stored reset hash does not match the printed token")
		}
		u, err := st.open(t).UsePasswordReset(context.Background(), trail.HashSessionToken(out.Token), "h", stored(t).CreatedAt)
		if err != nil || u.Email != "m@example.com" {
			t.Fatalf("using the printed token: %v", err)
		}
	})
	t.Run("DeactivateReactivate", func(t *testing.T) {
		if r := cli(t, "deactivate", "--user", "m@example.com"); r.code != 0 || !strings.Contains(r.stdout, "deactivated") {
			t.Fatalf("exit %d: %s %s", r.code, r.stdout, r.stderr)
		}
		if stored(t).Active() {
			t.Fatal("still active")
		}
		if r := cli(t, "list"); !strings.Contains(r.stdout, "deactivated") {
			t.Fatalf("list does not show the status: %s", r.stdout)
		}
		if r := cli(t, "reactivate", "--user", "m@example.com"); r.code != 0 || !stored(t).Active() {
			t.Fatalf("reactivate: exit %d: %s", r.code, r.stderr)
		}
		onlyEvent(t, st.open(t), "acme", trail.ActionUserDeactivated)
		onlyEvent(t, st.open(t), "acme", trail.ActionUserReactivated)
	})
	t.Run("Delete", func(t *testing.T) {
		id := stored(t).ID
		if r := cli(t, "delete", "--user", id); r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		e := onlyEvent(t, st.open(t), "acme", trail.ActionUserDeleted)
		if e.Targets[0].ID != id || e.Targets[0].Name != "m@example.com" {
			t.Fatalf("user.deleted %+v", e)
		}
	})
}
