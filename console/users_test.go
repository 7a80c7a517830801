package console_test

import (
	"bufio"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/testenv"
)

// userForm posts a form of the Users page (or any signed-in form) with
// the page's CSRF token.
func (e *env) userForm(t *testing.T, c *http.Client, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	_, page := e.get(t, c, "/account")
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", csrf(t, page))
	return e.post(t, c, path, form)
}

func TestUsersPage(t *testing.T) { forEachStore(t, testUsersPage) }

func testUsersPage(t *testing.T, newEnv envMaker) {
	e := newEnv(t)
	owner, admin, member := e.signedIn(t, e.owner), e.signedIn(t, e.admin), e.signedIn(t, e.member)
	t.Run("ErrMemberForbidden", func(t *testing.T) {
		if status, _ := e.get(t, member, "/users"); status != http.StatusForbidden {
			t.Fatalf("member GET /users: %d, want 403", status)
		}
		resp, _ := e.userForm(t, member, "/users/"+e.admin.ID+"/deactivate", nil)
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("member deactivating: %d, want 403", resp.StatusCode)
		}
	})
	t.Run("ErrAdminManagesNoOwner", func(t *testing.T) {
		resp, body := e.userForm(t, admin, "/users/"+e.owner.ID+"/deactivate", nil)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "cannot manage") {
			t.Fatalf("admin deactivating the owner: %d", resp.StatusCode)
		}
		resp, _ = e.userForm(t, admin, "/users/"+e.member.ID+"/role", url.Values{"role": {"owner"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("admin making an owner: %d, want 403", resp.StatusCode)
		}
	})
	t.Run("ErrLastOwner", func(t *testing.T) {
		resp, body := e.userForm(t, owner, "/users/"+e.owner.ID+"/role", url.Values{"role": {"admin"}})
		if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "last owner") {
			t.Fatalf("demoting the last owner: %d", resp.StatusCode)
		}
	})
	t.Run("ErrBadRole", func(t *testing.T) {
		resp, body := e.userForm(t, owner, "/users/"+e.member.ID+"/role", url.Values{"role": {"root"}})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "role: must be") {
			t.Fatalf("bad role: %d", resp.StatusCode)
		}
	})
	t.Run("DemotionEndsLiveTail", func(t *testing.T) {
		tail := e.openTail(t, admin)
		resp, _ := e.userForm(t, owner, "/users/"+e.admin.ID+"/role", url.Values{"role": {"member"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("demoting: %d", resp.StatusCode)
		}
		tail.wantEnd(t)
		if status, _ := e.get(t, admin, "/events"); status != http.StatusForbidden {
			t.Fatalf("a demoted admin reads the log: %d", status)
		}
		ev := e.recorded(t, "acme", trail.ActionUserRoleChanged)
		if len(ev) != 1 || ev[0].Actor.ID != e.owner.ID || ev[0].Targets[0].ID != e.admin.ID {
			t.Fatalf("user.role_changed events %+v", ev)
		}
	})
	t.Run("DeactivationSignsOut", func(t *testing.T) {
		resp, _ := e.userForm(t, owner, "/users/"+e.member.ID+"/deactivate", nil)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("deactivating: %d", resp.StatusCode)
		}
		if status, _ := e.get(t, member, "/account"); status != http.StatusSeeOther {
			t.Fatalf("a deactivated user's session still works: %d", status)
		}
		resp, body := e.login(t, e.client(t), "acme", e.member.Email, password)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "deactivated") {
			t.Fatalf("a deactivated user signs in: %d", resp.StatusCode)
		}
		fails := e.recorded(t, "acme", trail.ActionLoginFailure)
		if len(fails) == 0 {
			t.Fatal("no login.failure recorded for a deactivated user")
		}
		wantMetaKey(t, fails[len(fails)-1], "reason", "user_deactivated")
	})
}

func TestAccount(t *testing.T) { forEachStore(t, testAccount) }

func testAccount(t *testing.T, newEnv envMaker) {
	e := newEnv(t)
	c := e.signedIn(t, e.member)
	t.Run("ErrWrongCurrentPassword", func(t *testing.T) {
		resp, body := e.userForm(t, c, "/account/password", url.Values{"current_password": {"wrong"},
			"new_password": {"a brand new passphrase"}, "confirm_password": {"a brand new passphrase"}})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Current password") {
			t.Fatalf("wrong current password: %d", resp.StatusCode)
		}
	})
	t.Run("ErrShortPassword", func(t *testing.T) {
		resp, body := e.userForm(t, c, "/account/password", url.Values{"current_password": {password},
			"new_password": {"short"}, "confirm_password": {"short"}})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "at least 12") {
			t.Fatalf("short password: %d", resp.StatusCode)
		}
	})
	t.Run("ChangePassword", func(t *testing.T) {
		elsewhere := e.signedIn(t, e.member) // another browser of the same user
		resp, _ := e.userForm(t, c, "/account/password", url.Values{"current_password": {password},
			"new_password": {"a brand new passphrase"}, "confirm_password": {"a brand new passphrase"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("change password: %d", resp.StatusCode)
		}
		if resp, _ := e.login(t, e.client(t), "acme", e.member.Email, "a brand new passphrase"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign in with the new password: %d", resp.StatusCode)
		}
		changed := e.recorded(t, "acme", trail.ActionUserPasswordChanged)
		if len(changed) != 1 || !strings.Contains(string(changed[0].Metadata), `"other_sessions_ended":1`) {
			t.Fatalf("user.password_changed events %v, want one that ended the other session", changed)
		}
		if status, _ := e.get(t, elsewhere, "/account"); status != http.StatusSeeOther {
			t.Fatalf("the other browser's session after the change: %d, want a redirect to sign in", status)
		}
		if status, _ := e.get(t, c, "/account"); status != http.StatusOK {
			t.Fatalf("the changing browser's session after the change: %d, want it kept", status)
		}
	})
	t.Run("RevokeOwnSession", func(t *testing.T) {
		mine := e.sessionOf(t, e.member)
		resp, _ := e.userForm(t, c, "/account/sessions/"+mine.ID+"/revoke", nil)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("revoke own session: %d", resp.StatusCode)
		}
		if got, _ := e.db.Session(t.Context(), mine.Hash); got.RevokedAt.IsZero() {
			t.Fatal("the session was not revoked")
		}
		resp, _ = e.userForm(t, c, "/account/sessions/"+e.sessionOf(t, e.globex).ID+"/revoke", nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("revoking another user's session: %d, want 404", resp.StatusCode)
		}
	})
}

// sessionOf starts a session of u straight in the store.
func (e *env) sessionOf(t *testing.T, u *trail.User) *trail.Session {
	s, _ := trail.NewSession(u, trail.Context{}, time.Hour, e.now())
	if err := e.db.CreateSession(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	return s
}

// liveTail is an open live tail stream.
type liveTail struct {
	lines chan string
}

// openTail opens the live tail as c.
func (e *env) openTail(t *testing.T, c *http.Client) *liveTail {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", e.srv.URL+"/events/tail", nil)
	resp, err := c.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("open tail: %v %v", resp, err)
	}
	lt := &liveTail{lines: make(chan string, 100)}
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lt.lines <- sc.Text()
		}
		close(lt.lines)
	}()
	return lt
}

// wantEnd waits for the tail's end message.
func (lt *liveTail) wantEnd(t *testing.T) {
	t.Helper()
	testenv.Eventually(t, 5*time.Second, "the live tail's end", func() bool {
		for {
			select {
			case l, ok := <-lt.lines:
				if !ok || l == "event: end" {
					return true
				}
			default:
				return false
			}
		}
	})
}
