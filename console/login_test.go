package console_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/console"
)

func TestLogin(t *testing.T) { forEachStore(t, testLogin) }

func testLogin(t *testing.T, newEnv envMaker) {
	t.Run("OK", func(t *testing.T) {
		e := newEnv(t)
		c := e.client(t)
		resp, _ := e.login(t, c, "acme", "Olivia@Acme.example", password)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
			t.Fatalf("status %d, Location %q; want 303 to /", resp.StatusCode, resp.Header.Get("Location"))
		}
		ck := cookie(t, resp, "trail_session")
		if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure || ck.Path != "/" {
			t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, not Secure over http, Path /", ck)
		}
		if len(ck.Value) != 64 {
			t.Fatalf("session token has %d hex digits, want 64 (256 bits)", len(ck.Value))
		}
		sess, err := e.db.Session(context.Background(), trail.HashSessionToken(ck.Value))
		if err != nil {
			t.Fatalf("stored session by hash of cookie: %v", err)
		}
		if sess.Hash == ck.Value || sess.UserID != e.owner.ID {
			t.Fatalf("stored session %+v: want the hash of the token, for the owner", sess)
		}
		got := e.recorded(t, "acme", trail.ActionLoginSuccess)
		if len(got) != 1 {
			t.Fatalf("%d login.success events, want 1", len(got))
		}
		wantOrigin(t, got[0])
		if a := got[0].Actor; a.Type != "user" || a.ID != e.owner.ID || a.Name != e.owner.Email {
			t.Fatalf("login.success actor %+v, want %+v", got[0].Actor, e.owner.Actor())
		}
	})
	t.Run("ErrBadPasswordRecorded", func(t *testing.T) {
		e := newEnv(t)
		resp, body := e.login(t, e.client(t), "acme", e.owner.Email, "wrong password!!")
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Wrong organization, email or password") {
			t.Fatalf("status %d, want 401 with a message:\n%s", resp.StatusCode, body)
		}
		if c := findCookie(resp, "trail_session"); c != nil && c.Value != "" {
			t.Fatalf("a failed sign-in set a session cookie")
		}
		got := e.recorded(t, "acme", trail.ActionLoginFailure)
		if len(got) != 1 {
			t.Fatalf("%d login.failure events, want 1", len(got))
		}
		wantOrigin(t, got[0])
		wantReason(t, got[0], "bad_password")
		if got[0].Actor.ID != e.owner.ID || len(got[0].Targets) != 1 || got[0].Targets[0].ID != e.owner.ID {
			t.Fatalf("login.failure actor %+v targets %+v: want the user", got[0].Actor, got[0].Targets)
		}
	})
	t.Run("ErrUnknownEmailRecorded", func(t *testing.T) {
		e := newEnv(t)
		resp, _ := e.login(t, e.client(t), "acme", "nobody@acme.example", password)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", resp.StatusCode)
		}
		got := e.recorded(t, "acme", trail.ActionLoginFailure)
		if len(got) != 1 || got[0].Actor.ID != "nobody@acme.example" {
			t.Fatalf("login.failure events %v, want one naming the email typed", got)
		}
		wantReason(t, got[0], "unknown_user")
	})
	t.Run("ErrUnknownTenantNotRecorded", func(t *testing.T) {
		e := newEnv(t)
		resp, _ := e.login(t, e.client(t), "initech", e.owner.Email, password)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", resp.StatusCode)
		}
		if got := e.recorded(t, "initech", trail.ActionLoginFailure); len(got) != 0 {
			t.Fatalf("a tenant without users got %d events", len(got))
		}
	})
	t.Run("ErrFieldNamed", func(t *testing.T) {
		e := newEnv(t)
		for _, tc := range []struct{ tenant, email, want string }{
			{"", "a@example.com", "Organization"},
			{"acme", "not-an-email", "Email"},
		} {
			resp, body := e.login(t, e.client(t), tc.tenant, tc.email, password)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, tc.want+":") {
				t.Fatalf("tenant %q email %q: status %d, want 400 naming %s", tc.tenant, tc.email, resp.StatusCode, tc.want)
			}
		}
	})
	t.Run("ErrNoCSRF", func(t *testing.T) {
		e := newEnv(t)
		resp, _ := e.post(t, e.client(t), "/login", url.Values{
			"tenant": {"acme"}, "email": {e.owner.Email}, "password": {password}, "csrf": {"00"},
		})
		if resp.StatusCode != http.StatusForbidden || findCookie(resp, "trail_session") != nil {
			t.Fatalf("status %d, want 403 and no session", resp.StatusCode)
		}
	})
	t.Run("TwoTabs", func(t *testing.T) {
		e := newEnv(t)
		c := e.client(t)
		_, first := e.get(t, c, "/login")
		e.get(t, c, "/login") // a second tab must not break the first
		resp, _ := e.post(t, c, "/login", url.Values{"csrf": {csrf(t, first)}, "tenant": {"acme"},
			"email": {e.owner.Email}, "password": {password}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-in from the first tab: status %d, want 303", resp.StatusCode)
		}
	})
	t.Run("Next", func(t *testing.T) {
		e := newEnv(t)
		for next, want := range map[string]string{
			"/events?action=user.invited": "/events?action=user.invited",
			"//evil.example/":             "/",
			"https://evil.example/":       "/",
			"/\\evil.example":             "/",
		} {
			c := e.client(t)
			_, page := e.get(t, c, "/login?next="+url.QueryEscape(next))
			resp, _ := e.post(t, c, "/login", url.Values{"csrf": {csrf(t, page)}, "tenant": {"acme"},
				"email": {e.owner.Email}, "password": {password}, "next": {next}})
			if got := resp.Header.Get("Location"); got != want {
				t.Fatalf("next %q: Location %q, want %q", next, got, want)
			}
		}
	})
	t.Run("SecureCookies", func(t *testing.T) {
		e := newEnv(t, func(c *console.Config) { c.SecureCookies = true })
		r, err := http.Get(e.srv.URL + "/login")
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		ck := cookie(t, r, "__Host-trail_login")
		if !ck.Secure || !ck.HttpOnly {
			t.Fatalf("cookie %+v: want Secure and HttpOnly", ck)
		}
	})
}

func TestLoginRateLimit(t *testing.T) { forEachStore(t, testLoginRateLimit) }

func testLoginRateLimit(t *testing.T, newEnv envMaker) {
	e := newEnv(t)
	c := e.client(t)
	for range 5 {
		if resp, _ := e.login(t, c, "acme", e.owner.Email, "wrong password!!"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure before the limit: status %d, want 401", resp.StatusCode)
		}
	}
	for range 3 {
		resp, body := e.login(t, c, "acme", e.owner.Email, password) // right password, too late
		if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "Too many failed sign-ins") {
			t.Fatalf("status %d, want 429 after 5 failures", resp.StatusCode)
		}
	}
	var limited int
	for _, ev := range e.recorded(t, "acme", trail.ActionLoginFailure) {
		if strings.Contains(string(ev.Metadata), "rate_limited") {
			limited++
		}
	}
	if limited != 1 {
		t.Fatalf("%d rate_limited failures recorded, want 1 (the first refusal only)", limited)
	}
	t.Run("OtherUserUnaffected", func(t *testing.T) {
		e.signedIn(t, e.admin)
	})
	t.Run("WindowEnds", func(t *testing.T) {
		e.offset.Store(int64(16 * time.Minute))
		e.signedIn(t, e.owner)
	})
}

func TestSession(t *testing.T) { forEachStore(t, testSession) }

func testSession(t *testing.T, newEnv envMaker) {
	t.Run("SignedOutRedirects", func(t *testing.T) {
		e := newEnv(t)
		resp, err := e.client(t).Get(e.srv.URL + "/events?action=user.invited")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got, want := resp.Header.Get("Location"), "/login?next="+url.QueryEscape("/events?action=user.invited"); got != want {
			t.Fatalf("Location %q, want %q", got, want)
		}
	})
	t.Run("Logout", func(t *testing.T) {
		e := newEnv(t)
		c := e.signedIn(t, e.owner)
		_, page := e.get(t, c, "/events")
		if resp, _ := e.post(t, c, "/logout", url.Values{}); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("logout without CSRF token: status %d, want 403", resp.StatusCode)
		}
		if status, _ := e.get(t, c, "/events"); status != http.StatusOK {
			t.Fatalf("session ended by a forged logout: status %d", status)
		}
		resp, _ := e.post(t, c, "/logout", url.Values{"csrf": {csrf(t, page)}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
			t.Fatalf("logout: status %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		wantSignedOut(t, e, c)
		got := e.recorded(t, "acme", trail.ActionLogout)
		if len(got) != 1 {
			t.Fatalf("%d logout events, want 1", len(got))
		}
		wantOrigin(t, got[0])
	})
	t.Run("IdleExpiry", func(t *testing.T) {
		e := newEnv(t)
		c := e.signedIn(t, e.owner)
		e.offset.Store(int64(11 * time.Hour)) // used within the idle limit: renewed
		if status, _ := e.get(t, c, "/events"); status != http.StatusOK {
			t.Fatalf("after 11 h: status %d, want 200", status)
		}
		e.offset.Store(int64(22 * time.Hour)) // 11 h idle again: still fine
		if status, _ := e.get(t, c, "/events"); status != http.StatusOK {
			t.Fatalf("after 22 h with use at 11 h: status %d, want 200", status)
		}
		e.offset.Store(int64(35 * time.Hour)) // 13 h idle
		wantSignedOut(t, e, c)
	})
	t.Run("MaxAge", func(t *testing.T) {
		e := newEnv(t, func(c *console.Config) { c.MaxAge = time.Hour })
		c := e.signedIn(t, e.owner)
		e.offset.Store(int64(61 * time.Minute))
		wantSignedOut(t, e, c)
	})
	t.Run("RevokedByAdmin", func(t *testing.T) {
		e := newEnv(t)
		victim := e.signedIn(t, e.member)
		c := e.signedIn(t, e.admin)
		sessions, err := e.db.Sessions(context.Background(), "acme", e.now())
		if err != nil {
			t.Fatal(err)
		}
		var id string
		for _, s := range sessions {
			if s.UserID == e.member.ID {
				id = s.ID
			}
		}
		_, page := e.get(t, c, "/settings")
		resp, _ := e.post(t, c, "/settings/sessions/"+id+"/revoke", url.Values{"csrf": {csrf(t, page)}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("revoke: status %d, want 303", resp.StatusCode)
		}
		wantSignedOut(t, e, victim)
		got := e.recorded(t, "acme", trail.ActionSessionRevoked)
		if len(got) != 1 || got[0].Actor.ID != e.admin.ID || got[0].Targets[0].ID != e.member.ID {
			t.Fatalf("session.revoked events %+v, want one by the admin about the member", got)
		}
		wantOrigin(t, got[0])
	})
	t.Run("ErrRevokeOtherTenant", func(t *testing.T) {
		e := newEnv(t)
		e.signedIn(t, e.globex)
		sessions, _ := e.db.Sessions(context.Background(), "globex", e.now())
		c := e.signedIn(t, e.owner)
		_, page := e.get(t, c, "/settings")
		resp, _ := e.post(t, c, "/settings/sessions/"+sessions[0].ID+"/revoke", url.Values{"csrf": {csrf(t, page)}})
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("revoking another tenant's session: status %d, want 404", resp.StatusCode)
		}
	})
}

func TestRoles(t *testing.T) { forEachStore(t, testRoles) }

func testRoles(t *testing.T, newEnv envMaker) {
	e := newEnv(t)
	member := e.signedIn(t, e.member)
	for _, path := range []string{"/events", "/events/tail", "/entity?target_type=a&target_id=b", "/settings"} {
		status, body := e.get(t, member, path)
		if status != http.StatusForbidden || !strings.Contains(body, "Your role (member) cannot view the audit log") {
			t.Fatalf("member GET %s: status %d, want a 403 page that says why", path, status)
		}
	}
	for _, u := range []*trail.User{e.owner, e.admin} {
		if status, _ := e.get(t, e.signedIn(t, u), "/events"); status != http.StatusOK {
			t.Fatalf("%s GET /events: status %d, want 200", u.Role, status)
		}
	}
}

func TestPassword(t *testing.T) {
	h, err := console.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q: want argon2id PHC format", h)
	}
	h2, _ := console.HashPassword(password)
	for _, tc := range []struct {
		hash, pw string
		want     bool
	}{
		{h, password, true},
		{h2, password, true},
		{h, password + " ", false},
		{h, "", false},
		{"$argon2id$v=19$m=19456,t=2,p=1$bad$bad", password, false},
		{"plain", password, false},
	} {
		if got := console.CheckPassword(tc.hash, tc.pw); got != tc.want {
			t.Errorf("CheckPassword(%q, %q) = %v, want %v", tc.hash, tc.pw, got, tc.want)
		}
	}
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt missing")
	}
	if _, err := console.HashPassword("short"); trail.ErrorCode(err) != trail.EINVALID {
		t.Fatalf("short password: err %v, want invalid", err)
	}
}

func TestCreateUser(t *testing.T) { forEachStore(t, testCreateUser) }

func testCreateUser(t *testing.T, newEnv envMaker) {
	e := newEnv(t)
	ctx := context.Background()
	for _, tc := range []struct{ tenant, email, role, pw, field string }{
		{"acme", "x@example.com", "root", password, "role"},
		{"acme", "x", trail.RoleMember, password, "email"},
		{"", "x@example.com", trail.RoleMember, password, "tenant"},
		{"acme", "x@example.com", trail.RoleMember, "short", "password"},
	} {
		_, err := console.CreateUser(ctx, e.db, tc.tenant, tc.email, tc.role, tc.pw, time.Now())
		var te *trail.Error
		if !errors.As(err, &te) || te.Details[0].Field != tc.field {
			t.Errorf("CreateUser(%q, %q, %q): err %v, want a problem with %s", tc.tenant, tc.email, tc.role, err, tc.field)
		}
	}
	_, err := console.CreateUser(ctx, e.db, "acme", strings.ToUpper(e.owner.Email), trail.RoleMember, password, time.Now())
	if trail.ErrorCode(err) != trail.ECONFLICT {
		t.Fatalf("duplicate email: err %v, want conflict", err)
	}
}

// wantSignedOut fails unless c is sent to the sign-in page.
func wantSignedOut(t *testing.T, e *env, c *http.Client) {
	t.Helper()
	resp, err := c.Get(e.srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("GET /events: status %d Location %q, want a redirect to sign in", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// wantOrigin fails unless ev records the test client's IP and user agent.
func wantOrigin(t *testing.T, ev *trail.Event) {
	t.Helper()
	if ev.Context.IP != "127.0.0.1" || ev.Context.UserAgent == "" {
		t.Fatalf("%s context %+v: want IP 127.0.0.1 and the user agent", ev.Action, ev.Context)
	}
}

func wantReason(t *testing.T, ev *trail.Event, want string) {
	t.Helper()
	var m struct{ Reason string }
	if err := json.Unmarshal(ev.Metadata, &m); err != nil || m.Reason != want {
		t.Fatalf("%s metadata %s: want reason %q", ev.Action, ev.Metadata, want)
	}
}

func cookie(t *testing.T, resp *http.Response, name string) *http.Cookie {
	t.Helper()
	c := findCookie(resp, name)
	if c == nil {
		t.Fatalf("response set no cookie %s (got %v)", name, resp.Cookies())
	}
	return c
}

func findCookie(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}
