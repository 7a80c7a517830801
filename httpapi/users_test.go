package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
)

// addUser stores a user of tenant with role straight in the store.
func (e *env) addUser(tb testing.TB, tenant, email, role string) *trail.User {
	tb.Helper()
	u, err := trail.NewUser(tenant, email, role, "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA", time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	if err := e.store.CreateUser(tb.Context(), u); err != nil {
		tb.Fatal(err)
	}
	return u
}

// userEvents returns the stored events of tenant about user id, oldest
// first, by action.
func (e *env) userEvents(tb testing.TB, tenant, id string) map[string]*trail.Event {
	tb.Helper()
	out := map[string]*trail.Event{}
	for _, ev := range e.allEvents(tb) {
		if ev.Tenant == tenant && len(ev.Targets) > 0 && ev.Targets[0].Type == "user" && ev.Targets[0].ID == id {
			out[ev.Action] = ev
		}
	}
	return out
}

func TestUsersAPI(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		admin := e.newKey(t, "acme", false, trail.ScopeAdmin)
		owner := e.addUser(t, "acme", "owner@example.com", trail.RoleOwner)
		member := e.addUser(t, "acme", "member@example.com", trail.RoleMember)
		other := e.addUser(t, "globex", "x@example.com", trail.RoleMember)

		t.Run("List", func(t *testing.T) {
			got := decode[struct{ Users []*trail.User }](t, e.do(t, "GET", "/v1/users", admin, "").want(t, 200))
			if len(got.Users) != 2 || got.Users[0].Email != member.Email {
				t.Fatalf("users = %+v", got.Users)
			}
			e.do(t, "GET", "/v1/users?tenant=globex", admin, "").wantError(t, 400, trail.EINVALID, "tenant")
			e.do(t, "GET", "/v1/users", e.platform, "").wantError(t, 400, trail.EINVALID, "tenant")
			e.do(t, "GET", "/v1/users?tenant=globex", e.platform, "").want(t, 200)
			e.do(t, "GET", "/v1/users/"+other.ID, admin, "").wantError(t, 404, trail.ENOTFOUND, "")
			e.do(t, "GET", "/v1/users", e.newKey(t, "acme", false, trail.ScopeEventsRead), "").want(t, 403)
		})
		t.Run("ChangeRole", func(t *testing.T) {
			got := decode[trail.User](t, e.do(t, "PATCH", "/v1/users/"+member.ID, admin, `{"role":"admin"}`).want(t, 200))
			if got.Role != trail.RoleAdmin {
				t.Fatalf("role = %s", got.Role)
			}
			ev := e.userEvents(t, "acme", member.ID)[trail.ActionUserRoleChanged]
			if ev == nil || ev.Actor.Type != trail.ActorAPIKey || string(ev.Metadata) != `{"after":"admin","before":"member"}` {
				t.Fatalf("user.role_changed = %+v", ev)
			}
		})
		t.Run("ErrBadChange", func(t *testing.T) {
			e.do(t, "PATCH", "/v1/users/"+member.ID, admin, `{"role":"root"}`).wantError(t, 400, trail.EINVALID, "role")
			e.do(t, "PATCH", "/v1/users/"+member.ID, admin, `{"email":"nope"}`).wantError(t, 400, trail.EINVALID, "email")
			e.do(t, "PATCH", "/v1/users/"+member.ID, admin, `{}`).wantError(t, 400, trail.EINVALID, "body")
			e.do(t, "PATCH", "/v1/users/"+member.ID, admin, `{"active":"no"}`).wantError(t, 400, trail.EINVALID, "active")
			e.do(t, "PATCH", "/v1/users/"+member.ID, admin, `{"email":"owner@example.com"}`).wantError(t, 409, trail.ECONFLICT, "")
		})
		t.Run("ErrTenantKeyManagesNoOwner", func(t *testing.T) {
			e.do(t, "PATCH", "/v1/users/"+owner.ID, admin, `{"role":"member"}`).wantError(t, 403, trail.EFORBIDDEN, "")
			e.do(t, "PATCH", "/v1/users/"+member.ID, admin, `{"role":"owner"}`).wantError(t, 403, trail.EFORBIDDEN, "role")
			e.do(t, "DELETE", "/v1/users/"+owner.ID, admin, "").wantError(t, 403, trail.EFORBIDDEN, "")
			e.do(t, "POST", "/v1/users/"+owner.ID+"/reset-password", admin, "").wantError(t, 403, trail.EFORBIDDEN, "")
			if u, _ := s.User(t.Context(), "acme", member.ID); u.Role != trail.RoleAdmin {
				t.Fatalf("a refused change was made: role %s", u.Role)
			}
		})
		t.Run("ErrLastOwner", func(t *testing.T) {
			for _, body := range []string{`{"role":"admin"}`, `{"active":false}`} {
				e.do(t, "PATCH", "/v1/users/"+owner.ID+"?tenant=acme", e.platform, body).wantError(t, 409, trail.ECONFLICT, "")
			}
			e.do(t, "DELETE", "/v1/users/"+owner.ID+"?tenant=acme", e.platform, "").wantError(t, 409, trail.ECONFLICT, "")
		})
		t.Run("DeactivateReactivate", func(t *testing.T) {
			sess, _ := trail.NewSession(member, trail.Context{}, time.Hour, time.Now())
			if err := s.CreateSession(t.Context(), sess); err != nil {
				t.Fatal(err)
			}
			sessions := decode[struct{ Sessions []*trail.Session }](t, e.do(t, "GET", "/v1/users/"+member.ID+"/sessions", admin, "").want(t, 200))
			if len(sessions.Sessions) != 1 || sessions.Sessions[0].ID != sess.ID {
				t.Fatalf("sessions = %+v", sessions.Sessions)
			}
			got := decode[trail.User](t, e.do(t, "PATCH", "/v1/users/"+member.ID, admin, `{"active":false}`).want(t, 200))
			if got.DeactivatedAt.IsZero() {
				t.Fatal("deactivated_at not set")
			}
			if stored, _ := s.Session(t.Context(), sess.Hash); stored.RevokedAt.IsZero() {
				t.Fatal("the session of a deactivated user is open")
			}
			e.do(t, "PATCH", "/v1/users/"+member.ID, admin, `{"active":true}`).want(t, 200)
			evs := e.userEvents(t, "acme", member.ID)
			if evs[trail.ActionUserDeactivated] == nil || evs[trail.ActionUserReactivated] == nil {
				t.Fatalf("events %v", evs)
			}
		})
		t.Run("ResetPassword", func(t *testing.T) {
			r := decode[struct {
				Token, Path string
				ExpiresAt   time.Time `json:"expires_at"`
			}](t, e.do(t, "POST", "/v1/users/"+member.ID+"/reset-password", admin, "").want(t, 201))
			u, _ := s.User(t.Context(), "acme", member.ID)
			if r.Token == "" || u.ResetHash != trail.HashSessionToken(r.Token) || !strings.Contains(r.Path, r.Token) {
				t.Fatalf("reset %+v, stored hash %q", r, u.ResetHash)
			}
			if strings.Contains(u.ResetHash, r.Token) || r.ExpiresAt.Before(time.Now().Add(23*time.Hour)) {
				t.Fatalf("stored token in clear or short expiry %v", r.ExpiresAt)
			}
			if e.userEvents(t, "acme", member.ID)[trail.ActionUserPasswordReset] == nil {
				t.Fatal("no user.password_reset event")
			}
		})
		t.Run("RevokeSession", func(t *testing.T) {
			sess, _ := trail.NewSession(member, trail.Context{}, time.Hour, time.Now())
			if err := s.CreateSession(t.Context(), sess); err != nil {
				t.Fatal(err)
			}
			path := "/v1/users/" + member.ID + "/sessions/" + sess.ID
			e.do(t, "DELETE", path, admin, "").want(t, 204)
			e.do(t, "DELETE", path, admin, "").wantError(t, 404, trail.ENOTFOUND, "")
			if stored, _ := s.Session(t.Context(), sess.Hash); stored.RevokedAt.IsZero() {
				t.Fatal("session not revoked")
			}
		})
		t.Run("Delete", func(t *testing.T) {
			e.do(t, "DELETE", "/v1/users/"+member.ID, admin, "").want(t, 204)
			e.do(t, "GET", "/v1/users/"+member.ID, admin, "").want(t, 404)
			ev := e.userEvents(t, "acme", member.ID)[trail.ActionUserDeleted]
			if ev == nil || ev.Targets[0].Name != member.Email {
				t.Fatalf("user.deleted = %+v", ev)
			}
			// History stays readable: the earlier events still name the user.
			if e.userEvents(t, "acme", member.ID)[trail.ActionUserRoleChanged] == nil {
				t.Fatal("the deleted user's history is gone")
			}
		})
	})
}

// TestCreateUserAPI creates users through the API: without a password,
// with a one-time reset token, as far as the key's role allows, recorded.
func TestCreateUserAPI(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		admin := e.newKey(t, "acme", false, trail.ScopeAdmin)
		t.Run("OK", func(t *testing.T) {
			got := decode[struct {
				User  trail.User
				Reset struct{ Token, Path string }
			}](t, e.do(t, "POST", "/v1/users", admin, `{"email":"Ada@Example.com","role":"member"}`).want(t, 201))
			if got.User.Email != "ada@example.com" || got.User.Role != trail.RoleMember || got.Reset.Token == "" ||
				got.Reset.Path != trail.PasswordResetPath(got.Reset.Token) {
				t.Fatalf("created %+v", got)
			}
			stored, err := s.User(t.Context(), "acme", got.User.ID)
			if err != nil || stored.PasswordHash != "!" || stored.ResetHash != trail.HashSessionToken(got.Reset.Token) {
				t.Fatalf("stored %+v, %v: want no usable password and the reset's hash", stored, err)
			}
			events := e.userEvents(t, "acme", got.User.ID)
			for _, action := range []string{trail.ActionUserCreated, trail.ActionUserPasswordReset} {
				if ev := events[action]; ev == nil || ev.Actor.Type != trail.ActorAPIKey {
					t.Errorf("%s = %+v, want it recorded with the key as actor", action, ev)
				}
			}
			if _, err := s.UsePasswordReset(t.Context(), trail.HashSessionToken(got.Reset.Token), "hash", time.Now()); err != nil {
				t.Errorf("the reset token does not set a password: %v", err)
			}
		})
		t.Run("Errors", func(t *testing.T) {
			e.do(t, "POST", "/v1/users", admin, `{"email":"x@example.com","role":"owner"}`).wantError(t, 403, trail.EFORBIDDEN, "")
			e.do(t, "POST", "/v1/users", admin, `{"email":"nope","role":"member"}`).wantError(t, 400, trail.EINVALID, "email")
			e.do(t, "POST", "/v1/users", admin, `{"email":"y@example.com","role":"root"}`).wantError(t, 400, trail.EINVALID, "role")
			e.do(t, "POST", "/v1/users", admin, `{"email":"y@example.com","role":"member","password":"x"}`).wantError(t, 400, trail.EINVALID, "password")
			e.do(t, "POST", "/v1/users", admin, `{"email":"ada@example.com","role":"member"}`).wantError(t, 409, trail.ECONFLICT, "")
			e.do(t, "POST", "/v1/users", e.platform, `{"email":"y@example.com","role":"member"}`).wantError(t, 400, trail.EINVALID, "tenant")
			users, _ := s.Users(t.Context(), "acme")
			if len(users) != 1 {
				t.Errorf("refused requests left users: %d, want 1", len(users))
			}
		})
		t.Run("PlatformCreatesOwner", func(t *testing.T) {
			e.do(t, "POST", "/v1/users?tenant=globex", e.platform, `{"email":"o@globex.com","role":"owner"}`).want(t, 201)
		})
	})
}
