package storetest

import (
	"testing"
	"time"

	"github.com/trailhq/trail"
)

// testMFA: a user's TOTP secret, recovery code hashes and last time step
// are stored by UpdateUser and read back, and cleared again.
func testMFA(t *testing.T, open func(t *testing.T) trail.Store) {
	us := open(t)
	u := newUser(t, "acme", "mfa@example.com", trail.RoleOwner, 0)
	if err := us.CreateUser(ctx(t), u); err != nil {
		t.Fatal(err)
	}
	read := func(t *testing.T) *trail.User {
		t.Helper()
		got, err := us.User(ctx(t), "acme", u.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := read(t); got.MFA() || got.MFARecovery != nil || got.MFALastStep != 0 {
		t.Fatalf("new user has MFA: %q %v %d", got.MFASecret, got.MFARecovery, got.MFALastStep)
	}
	update := func(t *testing.T, change func(u *trail.User)) {
		t.Helper()
		if _, _, err := us.UpdateUser(ctx(t), "acme", u.ID, func(u *trail.User) error { change(u); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("Enrol", func(t *testing.T) {
		update(t, func(u *trail.User) {
			u.MFASecret, u.MFARecovery, u.MFALastStep = "JBSWY3DPEHPK3PXP", []string{"h1", "h2"}, 59000000
		})
		got := read(t)
		wantEqual(t, "MFA", []any{got.MFASecret, got.MFARecovery, got.MFALastStep},
			[]any{"JBSWY3DPEHPK3PXP", []string{"h1", "h2"}, int64(59000000)})
		byEmail, err := us.UserByEmail(ctx(t), "acme", u.Email)
		if err != nil || byEmail.MFASecret != "JBSWY3DPEHPK3PXP" {
			t.Fatalf("UserByEmail: %v, secret %q", err, byEmail.MFASecret)
		}
	})
	t.Run("UseRecoveryCode", func(t *testing.T) {
		update(t, func(u *trail.User) { u.MFARecovery = u.MFARecovery[1:] })
		wantEqual(t, "MFARecovery", read(t).MFARecovery, []string{"h2"})
	})
	t.Run("Disable", func(t *testing.T) {
		update(t, func(u *trail.User) { u.MFASecret, u.MFARecovery, u.MFALastStep = "", nil, 0 })
		if got := read(t); got.MFA() || got.MFARecovery != nil {
			t.Fatalf("disabled MFA reads back %q %v", got.MFASecret, got.MFARecovery)
		}
	})
}

// testMFALogins: a pending sign-in reads back until it expires, and is
// deleted once; deleting its user deletes it.
func testMFALogins(t *testing.T, open func(t *testing.T) trail.Store) {
	us := open(t)
	u := newUser(t, "acme", "mfa@example.com", trail.RoleOwner, 0)
	if err := us.CreateUser(ctx(t), u); err != nil {
		t.Fatal(err)
	}
	l, token := trail.NewMFALogin(u, "/events?x=1", true, base)
	if err := us.CreateMFALogin(ctx(t), l, base); err != nil {
		t.Fatal(err)
	}
	wantCode(t, us.CreateMFALogin(ctx(t), l, base), trail.ECONFLICT)
	t.Run("Read", func(t *testing.T) {
		got, err := us.MFALogin(ctx(t), trail.HashSessionToken(token), base.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, "MFALogin", got, l)
		_, err = us.MFALogin(ctx(t), l.Hash, l.ExpiresAt)
		wantCode(t, err, trail.ENOTFOUND)
		_, err = us.MFALogin(ctx(t), "nope", base)
		wantCode(t, err, trail.ENOTFOUND)
	})
	t.Run("DeleteOnce", func(t *testing.T) {
		if err := us.DeleteMFALogin(ctx(t), l.Hash); err != nil {
			t.Fatal(err)
		}
		wantCode(t, us.DeleteMFALogin(ctx(t), l.Hash), trail.ENOTFOUND)
		_, err := us.MFALogin(ctx(t), l.Hash, base)
		wantCode(t, err, trail.ENOTFOUND)
	})
	t.Run("PrunedWhenExpired", func(t *testing.T) {
		old, _ := trail.NewMFALogin(u, "/", false, base)
		if err := us.CreateMFALogin(ctx(t), old, base); err != nil {
			t.Fatal(err)
		}
		later, _ := trail.NewMFALogin(u, "/", false, base.Add(time.Hour))
		if err := us.CreateMFALogin(ctx(t), later, base.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		wantCode(t, us.DeleteMFALogin(ctx(t), old.Hash), trail.ENOTFOUND)
	})
	t.Run("DeletedWithUser", func(t *testing.T) {
		other := newUser(t, "acme", "other@example.com", trail.RoleMember, 1)
		if err := us.CreateUser(ctx(t), other); err != nil {
			t.Fatal(err)
		}
		l, _ := trail.NewMFALogin(other, "/", false, base)
		if err := us.CreateMFALogin(ctx(t), l, base); err != nil {
			t.Fatal(err)
		}
		if _, err := us.DeleteUser(ctx(t), "acme", other.ID, func(*trail.User) error { return nil }); err != nil {
			t.Fatal(err)
		}
		_, err := us.MFALogin(ctx(t), l.Hash, base)
		wantCode(t, err, trail.ENOTFOUND)
	})
}

// testMFARequired: the tenant switch reads back and reports changes only.
func testMFARequired(t *testing.T, open func(t *testing.T) trail.Store) {
	us := open(t)
	want := func(tenant string, required bool) {
		t.Helper()
		got, err := us.MFARequired(ctx(t), tenant)
		if err != nil || got != required {
			t.Fatalf("MFARequired(%s) = %v, %v; want %v", tenant, got, err, required)
		}
	}
	set := func(required, changed bool) {
		t.Helper()
		got, err := us.SetMFARequired(ctx(t), "acme", required, base)
		if err != nil || got != changed {
			t.Fatalf("SetMFARequired(%v) = %v, %v; want changed %v", required, got, err, changed)
		}
	}
	want("acme", false)
	set(true, true)
	set(true, false)
	want("acme", true)
	want("globex", false)
	set(false, true)
	set(false, false)
	want("acme", false)
}
