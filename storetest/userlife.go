package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/trailhq/trail"
)

// createUsers stores users, failing the test on an error.
func createUsers(t *testing.T, us trail.UserStore, users ...*trail.User) {
	t.Helper()
	for _, u := range users {
		if err := us.CreateUser(ctx(t), u); err != nil {
			t.Fatalf("CreateUser(%s): %v", u.Email, err)
		}
	}
}

// setRole is a change that makes a user role.
func setRole(role string) func(*trail.User) error {
	return func(u *trail.User) error { u.Role = role; return nil }
}

// deactivate is a change that deactivates a user at base.
func deactivate(u *trail.User) error { u.DeactivatedAt = base; return nil }

func testUpdateUser(t *testing.T, open func(t *testing.T) trail.Store) {
	us := open(t)
	owner, member := newUser(t, "acme", "o@example.com", trail.RoleOwner, 0), newUser(t, "acme", "m@example.com", trail.RoleMember, 1)
	createUsers(t, us, owner, member)
	s, _ := trail.NewSession(member, trail.Context{}, 24*time.Hour, base)
	if err := us.CreateSession(ctx(t), s); err != nil {
		t.Fatal(err)
	}
	t.Run("Role", func(t *testing.T) {
		before, after, err := us.UpdateUser(ctx(t), "acme", member.ID, setRole(trail.RoleAdmin))
		if err != nil {
			t.Fatal(err)
		}
		if before.Role != trail.RoleMember || after.Role != trail.RoleAdmin {
			t.Fatalf("roles before/after = %s/%s, want member/admin", before.Role, after.Role)
		}
		got, _ := us.User(ctx(t), "acme", member.ID)
		wantEqual(t, "stored user", got, after)
	})
	t.Run("ErrChangeRefused", func(t *testing.T) {
		refused := trail.Errorf(trail.EFORBIDDEN, "no")
		_, _, err := us.UpdateUser(ctx(t), "acme", member.ID, func(u *trail.User) error {
			u.Role = trail.RoleOwner
			return refused
		})
		if !errors.Is(err, refused) {
			t.Fatalf("err = %v, want the change's error", err)
		}
		got, _ := us.User(ctx(t), "acme", member.ID)
		if got.Role != trail.RoleAdmin {
			t.Fatalf("a refused change was stored: role %s", got.Role)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, _, err := us.UpdateUser(ctx(t), "globex", member.ID, setRole(trail.RoleMember)) // other tenant
		wantCode(t, err, trail.ENOTFOUND)
	})
	t.Run("ErrEmailTaken", func(t *testing.T) {
		_, _, err := us.UpdateUser(ctx(t), "acme", member.ID, func(u *trail.User) error { u.Email = owner.Email; return nil })
		wantCode(t, err, trail.ECONFLICT)
	})
	t.Run("DeactivateRevokesSessions", func(t *testing.T) {
		if _, _, err := us.UpdateUser(ctx(t), "acme", member.ID, deactivate); err != nil {
			t.Fatal(err)
		}
		got, _ := us.Session(ctx(t), s.Hash)
		if got.RevokedAt.IsZero() {
			t.Fatal("the deactivated user's session was not revoked")
		}
		wantSessions(t, us, "acme", base.Add(time.Hour))
		u, _ := us.User(ctx(t), "acme", member.ID)
		if u.Active() || !u.DeactivatedAt.Equal(base) {
			t.Fatalf("DeactivatedAt = %v, want %v", u.DeactivatedAt, base)
		}
	})
}

func testLastOwner(t *testing.T, open func(t *testing.T) trail.Store) {
	us := open(t)
	a, b := newUser(t, "acme", "a@example.com", trail.RoleOwner, 0), newUser(t, "acme", "b@example.com", trail.RoleOwner, 1)
	other := newUser(t, "globex", "c@example.com", trail.RoleOwner, 2)
	createUsers(t, us, a, b, other)
	if _, _, err := us.UpdateUser(ctx(t), "acme", b.ID, deactivate); err != nil {
		t.Fatal(err) // a is still an active owner
	}
	keep := func(u *trail.User) error { return nil }
	t.Run("ErrDemote", func(t *testing.T) {
		_, _, err := us.UpdateUser(ctx(t), "acme", a.ID, setRole(trail.RoleAdmin))
		wantCode(t, err, trail.ECONFLICT) // b is an owner, but deactivated
	})
	t.Run("ErrDeactivate", func(t *testing.T) {
		_, _, err := us.UpdateUser(ctx(t), "acme", a.ID, deactivate)
		wantCode(t, err, trail.ECONFLICT)
	})
	t.Run("ErrDelete", func(t *testing.T) {
		_, err := us.DeleteUser(ctx(t), "acme", a.ID, keep)
		wantCode(t, err, trail.ECONFLICT)
		if _, err := us.User(ctx(t), "acme", a.ID); err != nil {
			t.Fatalf("the last owner is gone: %v", err)
		}
	})
	t.Run("OtherChangesOfTheLastOwner", func(t *testing.T) {
		_, after, err := us.UpdateUser(ctx(t), "acme", a.ID, func(u *trail.User) error { u.Email = "a2@example.com"; return nil })
		if err != nil || after.Email != "a2@example.com" {
			t.Fatalf("changing the last owner's email: %v", err)
		}
	})
	t.Run("DeleteWithAnotherOwner", func(t *testing.T) {
		if _, _, err := us.UpdateUser(ctx(t), "acme", b.ID, func(u *trail.User) error { u.DeactivatedAt = time.Time{}; return nil }); err != nil {
			t.Fatal(err)
		}
		got, err := us.DeleteUser(ctx(t), "acme", a.ID, keep)
		if err != nil || got.ID != a.ID {
			t.Fatalf("DeleteUser = %v, %v", got, err)
		}
		_, err = us.User(ctx(t), "acme", a.ID)
		wantCode(t, err, trail.ENOTFOUND)
		_, err = us.DeleteUser(ctx(t), "acme", a.ID, keep)
		wantCode(t, err, trail.ENOTFOUND)
	})
}

// testLastOwnerRace demotes two owners at once, many times: exactly one
// of each pair of changes may win, and an active owner always remains.
func testLastOwnerRace(t *testing.T, open func(t *testing.T) trail.Store) {
	us := open(t)
	for round := range 10 {
		tenant := "race" + string(rune('a'+round))
		a, b := newUser(t, tenant, "a@example.com", trail.RoleOwner, 0), newUser(t, tenant, "b@example.com", trail.RoleOwner, 1)
		createUsers(t, us, a, b)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, id := range []string{a.ID, b.ID} {
			wg.Go(func() {
				if i == 0 {
					_, _, errs[i] = us.UpdateUser(ctx(t), tenant, id, setRole(trail.RoleMember))
				} else {
					_, errs[i] = us.DeleteUser(ctx(t), tenant, id, func(*trail.User) error { return nil })
				}
			})
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("round %d: demote err %v, delete err %v; want exactly one to fail", round, errs[0], errs[1])
		}
		for _, err := range errs {
			if err != nil {
				wantCode(t, err, trail.ECONFLICT)
			}
		}
		users, err := us.Users(ctx(t), tenant)
		if err != nil {
			t.Fatal(err)
		}
		owners := 0
		for _, u := range users {
			if u.Role == trail.RoleOwner && u.Active() {
				owners++
			}
		}
		if owners != 1 {
			t.Fatalf("round %d: %d active owners remain, want 1", round, owners)
		}
	}
}

func testDeleteUser(t *testing.T, open func(t *testing.T) trail.Store) {
	us := open(t)
	owner, member := newUser(t, "acme", "o@example.com", trail.RoleOwner, 0), newUser(t, "acme", "m@example.com", trail.RoleMember, 1)
	createUsers(t, us, owner, member)
	s, _ := trail.NewSession(member, trail.Context{}, 24*time.Hour, base)
	if err := us.CreateSession(ctx(t), s); err != nil {
		t.Fatal(err)
	}
	refused := trail.Errorf(trail.EFORBIDDEN, "no")
	if _, err := us.DeleteUser(ctx(t), "acme", member.ID, func(*trail.User) error { return refused }); !errors.Is(err, refused) {
		t.Fatalf("err = %v, want the check's error", err)
	}
	if _, err := us.DeleteUser(ctx(t), "acme", member.ID, func(*trail.User) error { return nil }); err != nil {
		t.Fatal(err)
	}
	_, err := us.Session(ctx(t), s.Hash)
	wantCode(t, err, trail.ENOTFOUND)
	// The email is free again.
	createUsers(t, us, newUser(t, "acme", "m@example.com", trail.RoleMember, 2))
}

func testPasswordReset(t *testing.T, open func(t *testing.T) trail.Store) {
	us := open(t)
	owner, member := newUser(t, "acme", "o@example.com", trail.RoleOwner, 0), newUser(t, "acme", "m@example.com", trail.RoleMember, 1)
	createUsers(t, us, owner, member)
	s, _ := trail.NewSession(member, trail.Context{}, 24*time.Hour, base)
	if err := us.CreateSession(ctx(t), s); err != nil {
		t.Fatal(err)
	}
	issue := func(t *testing.T, id string) string {
		t.Helper()
		var token string
		_, _, err := us.UpdateUser(ctx(t), "acme", id, func(u *trail.User) (err error) {
			token, err = trail.NewPasswordReset(u, base)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return token
	}
	token := issue(t, member.ID)
	hash := trail.HashSessionToken(token)
	t.Run("ErrUnknown", func(t *testing.T) {
		_, err := us.UsePasswordReset(ctx(t), trail.HashSessionToken("guess"), "new", base)
		wantCode(t, err, trail.ENOTFOUND)
	})
	t.Run("ErrExpired", func(t *testing.T) {
		_, err := us.UsePasswordReset(ctx(t), hash, "new", base.Add(trail.PasswordResetTTL))
		wantCode(t, err, trail.ENOTFOUND)
	})
	t.Run("OnceOnly", func(t *testing.T) {
		u, err := us.UsePasswordReset(ctx(t), hash, "new-hash", base.Add(time.Hour))
		if err != nil || u.ID != member.ID {
			t.Fatalf("UsePasswordReset = %v, %v", u, err)
		}
		got, _ := us.User(ctx(t), "acme", member.ID)
		if got.PasswordHash != "new-hash" || got.ResetHash != "" {
			t.Fatalf("after reset: hash %q, reset %q", got.PasswordHash, got.ResetHash)
		}
		if sess, _ := us.Session(ctx(t), s.Hash); sess.RevokedAt.IsZero() {
			t.Fatal("a reset left the user's session open")
		}
		_, err = us.UsePasswordReset(ctx(t), hash, "other", base.Add(time.Hour))
		wantCode(t, err, trail.ENOTFOUND)
	})
	t.Run("ErrDeactivated", func(t *testing.T) {
		token := issue(t, member.ID)
		if _, _, err := us.UpdateUser(ctx(t), "acme", member.ID, deactivate); err != nil {
			t.Fatal(err)
		}
		_, err := us.UsePasswordReset(ctx(t), trail.HashSessionToken(token), "new", base.Add(time.Hour))
		wantCode(t, err, trail.ENOTFOUND)
	})
}

func testUserSessions(t *testing.T, open func(t *testing.T) trail.Store) {
	us := open(t)
	u, v := newUser(t, "acme", "u@example.com", trail.RoleOwner, 0), newUser(t, "acme", "v@example.com", trail.RoleAdmin, 1)
	createUsers(t, us, u, v)
	s1, _ := trail.NewSession(u, trail.Context{}, 24*time.Hour, base)
	s2, _ := trail.NewSession(u, trail.Context{}, 24*time.Hour, base.Add(time.Minute))
	s3, _ := trail.NewSession(v, trail.Context{}, 24*time.Hour, base)
	for _, s := range []*trail.Session{s1, s2, s3} {
		if err := us.CreateSession(ctx(t), s); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(tenant, id string) []string {
		got, err := us.UserSessions(ctx(t), tenant, id, base.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, s := range got {
			out = append(out, s.ID)
		}
		return out
	}
	wantEqual(t, "UserSessions", ids("acme", u.ID), []string{s2.ID, s1.ID})
	wantEqual(t, "UserSessions of another tenant", ids("globex", u.ID), []string{})
	if err := us.RevokeSession(ctx(t), "acme", s2.ID, base); err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "UserSessions after a revocation", ids("acme", u.ID), []string{s1.ID})
}
