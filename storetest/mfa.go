package storetest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/secretbox"
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

// MFASecretStore is a store that seals users' TOTP secrets with a secrets
// key.
type MFASecretStore interface {
	trail.UserStore
	UseSecrets(*secretbox.Keyring)
	ResealSecrets(ctx context.Context) (int, error)
}

// TestMFASecrets checks that s keeps users' TOTP secrets sealed: a secret
// stored before the key existed reads back and is sealed by ResealSecrets,
// and a rotation reseals it under the new key. raw returns the stored
// mfa_secret column of every user, as a SQL client sees it.
func TestMFASecrets(t *testing.T, s MFASecretStore, raw func(t *testing.T) string) {
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	u := newUser(t, "acme", "mfa@example.com", trail.RoleOwner, 0)
	u.MFASecret, u.MFARecovery = secret, []string{"h1"}
	if err := s.CreateUser(ctx(t), u); err != nil {
		t.Fatal(err)
	}
	if got := raw(t); !strings.Contains(got, secret) {
		t.Fatalf("precondition: a store without a key stores plain text, raw read: %s", got)
	}
	k, err := secretbox.LoadOrCreate(filepath.Join(t.TempDir(), secretbox.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	s.UseSecrets(k)
	wantSecret := func(t *testing.T) {
		t.Helper()
		got, err := s.User(ctx(t), "acme", u.ID)
		if err != nil || got.MFASecret != secret {
			t.Fatalf("read secret %q, %v; want %q", got.MFASecret, err, secret)
		}
	}
	wantSecret(t)
	if n, err := s.ResealSecrets(ctx(t)); err != nil || n != 1 {
		t.Fatalf("ResealSecrets = %d, %v; want the plain secret", n, err)
	}
	wantNone(t, raw(t), secret)
	wantSecret(t)
	t.Run("Rotate", func(t *testing.T) {
		if _, err := k.Rotate(); err != nil {
			t.Fatal(err)
		}
		if n, err := s.ResealSecrets(ctx(t)); err != nil || n != 1 {
			t.Fatalf("ResealSecrets after Rotate = %d, %v; want 1", n, err)
		}
		if got := raw(t); !strings.Contains(got, "tsec1:"+k.CurrentID()) {
			t.Errorf("the secret is not sealed with the new key %s: %s", k.CurrentID(), got)
		}
		wantSecret(t)
	})
}
