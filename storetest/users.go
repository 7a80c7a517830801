package storetest

import (
	"testing"
	"time"

	"github.com/trailhq/trail"
)

// newUser makes a user of tenant created sec seconds after base.
func newUser(t *testing.T, tenant, email, role string, sec int) *trail.User {
	t.Helper()
	u, err := trail.NewUser(tenant, email, role, "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA", base.Add(time.Duration(sec)*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func testUsers(t *testing.T, open func(t *testing.T) trail.Store) {
	us := open(t)
	owner, member := newUser(t, "acme", "Owner@Example.com", trail.RoleOwner, 0), newUser(t, "acme", "m@example.com", trail.RoleMember, 1)
	other := newUser(t, "globex", "owner@example.com", trail.RoleAdmin, 2) // same email, other tenant
	for _, u := range []*trail.User{owner, member, other} {
		if err := us.CreateUser(ctx(t), u); err != nil {
			t.Fatalf("CreateUser(%s): %v", u.Email, err)
		}
	}
	t.Run("User", func(t *testing.T) {
		got, err := us.User(ctx(t), "acme", owner.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, "User", got, owner)
		if got.PasswordHash != owner.PasswordHash {
			t.Fatalf("PasswordHash = %q, want %q", got.PasswordHash, owner.PasswordHash)
		}
		_, err = us.User(ctx(t), "globex", owner.ID) // right id, wrong tenant
		wantCode(t, err, trail.ENOTFOUND)
	})
	t.Run("UserByEmail", func(t *testing.T) {
		got, err := us.UserByEmail(ctx(t), "globex", "owner@example.com")
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, "UserByEmail", got, other)
		_, err = us.UserByEmail(ctx(t), "initech", "owner@example.com")
		wantCode(t, err, trail.ENOTFOUND)
	})
	t.Run("Users", func(t *testing.T) {
		got, err := us.Users(ctx(t), "acme")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("Users(acme) returned %d users, want 2", len(got))
		}
		wantEqual(t, "Users ids", []string{got[0].ID, got[1].ID}, []string{member.ID, owner.ID})
		none, err := us.Users(ctx(t), "initech")
		if err != nil || len(none) != 0 {
			t.Fatalf("Users(initech) = %v, %v; want none", none, err)
		}
	})
	t.Run("ErrDuplicateEmail", func(t *testing.T) {
		dup := newUser(t, "acme", "owner@example.com", trail.RoleMember, 3)
		wantCode(t, us.CreateUser(ctx(t), dup), trail.ECONFLICT)
	})
}

func testSessions(t *testing.T, open func(t *testing.T) trail.Store) {
	us := open(t)
	u, v := newUser(t, "acme", "a@example.com", trail.RoleOwner, 0), newUser(t, "globex", "b@example.com", trail.RoleAdmin, 0)
	for _, x := range []*trail.User{u, v} {
		if err := us.CreateUser(ctx(t), x); err != nil {
			t.Fatal(err)
		}
	}
	c := trail.Context{IP: "192.0.2.7", UserAgent: "Mozilla/5.0 storetest"}
	s1, token := trail.NewSession(u, c, 24*time.Hour, base)
	s2, _ := trail.NewSession(u, c, 24*time.Hour, base.Add(time.Minute))
	s3, _ := trail.NewSession(v, c, 24*time.Hour, base)
	for _, s := range []*trail.Session{s1, s2, s3} {
		if err := us.CreateSession(ctx(t), s); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
	}
	t.Run("Session", func(t *testing.T) {
		got, err := us.Session(ctx(t), trail.HashSessionToken(token))
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, "Session", got, s1)
		if got.Hash != s1.Hash || got.CSRF != s1.CSRF {
			t.Fatalf("Session hash/csrf = %q/%q, want %q/%q", got.Hash, got.CSRF, s1.Hash, s1.CSRF)
		}
		_, err = us.Session(ctx(t), trail.HashSessionToken("not a token"))
		wantCode(t, err, trail.ENOTFOUND)
	})
	t.Run("Touch", func(t *testing.T) {
		later := base.Add(2 * time.Hour)
		if err := us.TouchSession(ctx(t), s1.Hash, later); err != nil {
			t.Fatal(err)
		}
		got, err := us.Session(ctx(t), s1.Hash)
		if err != nil {
			t.Fatal(err)
		}
		if !got.LastSeenAt.Equal(later) {
			t.Fatalf("LastSeenAt = %v, want %v", got.LastSeenAt, later)
		}
	})
	t.Run("SessionsAndRevoke", func(t *testing.T) {
		wantSessions(t, us, "acme", base.Add(time.Hour), s2.ID, s1.ID)
		wantCode(t, us.RevokeSession(ctx(t), "globex", s1.ID, base), trail.ENOTFOUND) // other tenant
		if err := us.RevokeSession(ctx(t), "acme", s1.ID, base.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		wantCode(t, us.RevokeSession(ctx(t), "acme", s1.ID, base.Add(time.Hour)), trail.ENOTFOUND)
		got, err := us.Session(ctx(t), s1.Hash)
		if err != nil {
			t.Fatal(err)
		}
		if !got.RevokedAt.Equal(base.Add(time.Hour)) || got.Active(base.Add(time.Hour), time.Hour) {
			t.Fatalf("revoked session: RevokedAt = %v, Active = true", got.RevokedAt)
		}
		wantSessions(t, us, "acme", base.Add(time.Hour), s2.ID)
		wantSessions(t, us, "acme", base.Add(25*time.Hour)) // past ExpiresAt
	})
	t.Run("Prune", func(t *testing.T) {
		n, err := us.PruneSessions(ctx(t), base.Add(2*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		// s1 was revoked at +1h; s3 was last used at +0; s2 at +1m.
		if n != 3 {
			t.Fatalf("PruneSessions removed %d sessions, want 3", n)
		}
		_, err = us.Session(ctx(t), s2.Hash)
		wantCode(t, err, trail.ENOTFOUND)
	})
}

// wantSessions fails unless tenant's live sessions at now are ids, in order.
func wantSessions(t *testing.T, us trail.UserStore, tenant string, now time.Time, ids ...string) {
	t.Helper()
	got, err := us.Sessions(ctx(t), tenant, now)
	if err != nil {
		t.Fatal(err)
	}
	gotIDs := []string{}
	for _, s := range got {
		gotIDs = append(gotIDs, s.ID)
	}
	if ids == nil {
		ids = []string{}
	}
	wantEqual(t, "Sessions ids", gotIDs, ids)
}
