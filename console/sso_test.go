package console_test

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/trailhq/trail"
	"github.com/trailhq/trail/console"
	"github.com/trailhq/trail/internal/oidctest"
)

// opPassword is every provider account's password.
const opPassword = "provider-password"

// ssoEnv is a console with a real OpenID provider for tenant acme.
type ssoEnv struct {
	*env
	op  *oidctest.Provider
	sso *trail.SSOProvider
}

// newSSOEnv starts a console and a provider with accounts for acme's
// owner (olivia), a new admin by group (nina), a new user with no group
// (paul), an outsider and an address the provider has not verified.
func newSSOEnv(t *testing.T, newEnv envMaker, change func(p *trail.SSOProvider)) *ssoEnv {
	t.Helper()
	e := newEnv(t, func(c *console.Config) {
		c.AllowNetworks = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} // the provider runs on loopback
	})
	op := oidctest.Start(t, e.srv.URL+"/login/sso/callback",
		oidctest.User{Username: "olivia", Password: opPassword, Email: "Olivia@acme.example", EmailVerified: true},
		oidctest.User{Username: "nina", Password: opPassword, Email: "nina@acme.example", EmailVerified: true,
			Groups: []string{"staff", "trail-admins"}},
		oidctest.User{Username: "paul", Password: opPassword, Email: "paul@acme.example", EmailVerified: true},
		oidctest.User{Username: "eve", Password: opPassword, Email: "eve@elsewhere.example", EmailVerified: true},
		oidctest.User{Username: "uma", Password: opPassword, Email: "uma@acme.example", EmailVerified: false},
	)
	p := &trail.SSOProvider{
		Tenant: "acme", Issuer: op.Issuer, ClientID: op.ClientID, ClientSecret: op.ClientSecret,
		Domains: []string{"acme.example"}, RoleClaim: "groups", RoleMap: map[string]string{"trail-admins": trail.RoleAdmin},
		DefaultRole: trail.RoleMember, CreateUsers: true,
	}
	if change != nil {
		change(p)
	}
	if _, err := e.db.SetSSOProvider(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	return &ssoEnv{env: e, op: op, sso: p}
}

var continueRE = regexp.MustCompile(`id="sso-continue" href="([^"]+)"`)

// start posts the SSO form with who and returns the provider's URL.
func (e *ssoEnv) start(t *testing.T, c *http.Client, who string) string {
	t.Helper()
	_, page := e.get(t, c, "/login?next=%2Fsettings")
	resp, body := e.post(t, c, "/login/sso", url.Values{"csrf": {csrf(t, page)}, "who": {who}, "next": {"/settings"}})
	m := continueRE.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("POST /login/sso who=%s: status %d, want 200 with a link on:\n%s", who, resp.StatusCode, body)
	}
	return html.UnescapeString(m[1])
}

// signIn signs in at the provider as username, from authURL, and returns
// the URL the provider sends the browser back to.
func (e *ssoEnv) signIn(t *testing.T, c *http.Client, authURL, username string) string {
	t.Helper()
	back, err := e.op.SignIn(c, authURL, username, opPassword)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(back.String(), e.srv.URL+"/login/sso/callback?") {
		t.Fatalf("provider sent the browser to %s, want the callback", back)
	}
	return back.String()
}

// callback follows the provider's redirect back to the console.
func (e *ssoEnv) callback(t *testing.T, c *http.Client, back string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(back)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// through runs a whole sign-in as username and returns the console's
// answer to the callback.
func (e *ssoEnv) through(t *testing.T, c *http.Client, who, username string) (*http.Response, string) {
	t.Helper()
	return e.callback(t, c, e.signIn(t, c, e.start(t, c, who), username))
}

// wantFailure checks the latest login.failure of acme.
func (e *ssoEnv) wantFailure(t *testing.T, method, reason string) {
	t.Helper()
	fails := e.recorded(t, "acme", trail.ActionLoginFailure)
	if len(fails) == 0 {
		t.Fatalf("no login.failure recorded, want reason %s", reason)
	}
	wantMeta(t, fails[len(fails)-1], map[string]string{"method": method, "reason": reason})
}

func wantMeta(t *testing.T, ev *trail.Event, want map[string]string) {
	t.Helper()
	var got map[string]string
	if err := json.Unmarshal(ev.Metadata, &got); err != nil {
		t.Fatalf("%s metadata %s: %v", ev.Action, ev.Metadata, err)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("%s metadata %s = %q, want %q (all: %s)", ev.Action, k, got[k], v, ev.Metadata)
		}
	}
}

func TestSSOSignIn(t *testing.T) { forEachStore(t, testSSOSignIn) }

func testSSOSignIn(t *testing.T, newEnv envMaker) {
	e := newSSOEnv(t, newEnv, nil)
	t.Run("ExistingUser", func(t *testing.T) {
		c := e.client(t)
		resp, body := e.through(t, c, "acme", "olivia")
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/settings" {
			t.Fatalf("callback: %d to %q, want 303 to /settings:\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
		}
		if status, page := e.get(t, c, "/settings"); status != http.StatusOK || !strings.Contains(page, "olivia@acme.example") {
			t.Fatalf("GET /settings after SSO: %d", status)
		}
		ok := e.recorded(t, "acme", trail.ActionLoginSuccess)
		wantMeta(t, ok[len(ok)-1], map[string]string{"method": "sso", "role": trail.RoleOwner})
		if ok[len(ok)-1].Actor.ID != e.owner.ID {
			t.Fatalf("login.success actor %s, want the owner %s", ok[len(ok)-1].Actor.ID, e.owner.ID)
		}
	})
	t.Run("ByEmailDomain", func(t *testing.T) {
		c := e.client(t)
		authURL := e.start(t, c, "olivia@ACME.example")
		if u, _ := url.Parse(authURL); u.Query().Get("login_hint") != "olivia@acme.example" ||
			u.Query().Get("code_challenge_method") != "S256" || u.Query().Get("nonce") == "" {
			t.Fatalf("authorization URL %s lacks login_hint, PKCE or nonce", authURL)
		}
		resp, body := e.callback(t, c, e.signIn(t, c, authURL, "olivia"))
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("callback: %d:\n%s", resp.StatusCode, body)
		}
	})
	t.Run("JustInTimeWithMappedRole", func(t *testing.T) {
		resp, body := e.through(t, e.client(t), "acme", "nina")
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("callback: %d:\n%s", resp.StatusCode, body)
		}
		u, err := e.db.UserByEmail(context.Background(), "acme", "nina@acme.example")
		if err != nil || u.Role != trail.RoleAdmin || u.PasswordHash != trail.NoPassword {
			t.Fatalf("nina = %+v, %v; want an admin without a password", u, err)
		}
		created := e.recorded(t, "acme", trail.ActionUserCreated)
		wantMeta(t, created[len(created)-1], map[string]string{"method": "sso", "role": trail.RoleAdmin})
	})
	t.Run("JustInTimeDefaultRole", func(t *testing.T) {
		if resp, body := e.through(t, e.client(t), "acme", "paul"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("callback: %d:\n%s", resp.StatusCode, body)
		}
		if u, err := e.db.UserByEmail(context.Background(), "acme", "paul@acme.example"); err != nil || u.Role != trail.RoleMember {
			t.Fatalf("paul = %+v, %v; want a member", u, err)
		}
	})
	t.Run("ErrDomainNotAllowed", func(t *testing.T) {
		resp, body := e.through(t, e.client(t), "acme", "eve")
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "email domain") {
			t.Fatalf("callback: %d, want 401 naming the domain:\n%s", resp.StatusCode, body)
		}
		e.wantFailure(t, "sso", "domain_not_allowed")
		if _, err := e.db.UserByEmail(context.Background(), "acme", "eve@elsewhere.example"); trail.ErrorCode(err) != trail.ENOTFOUND {
			t.Fatalf("eve was created: %v", err)
		}
	})
	t.Run("ErrEmailNotVerified", func(t *testing.T) {
		if resp, _ := e.through(t, e.client(t), "acme", "uma"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("callback: %d, want 401", resp.StatusCode)
		}
		e.wantFailure(t, "sso", "email_not_verified")
	})
	t.Run("ErrNoSuchOrganization", func(t *testing.T) {
		c := e.client(t)
		_, page := e.get(t, c, "/login")
		resp, body := e.post(t, c, "/login/sso", url.Values{"csrf": {csrf(t, page)}, "who": {"someone@nowhere.example"}})
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "nowhere.example") {
			t.Fatalf("POST /login/sso: %d, want 404 naming the domain:\n%s", resp.StatusCode, body)
		}
	})
}

// TestSSODeactivatedUser checks that single sign-on refuses a deactivated
// user as a password sign-in does, and records why.
func TestSSODeactivatedUser(t *testing.T) { forEachStore(t, testSSODeactivatedUser) }

func testSSODeactivatedUser(t *testing.T, newEnv envMaker) {
	e := newSSOEnv(t, newEnv, nil)
	e.newUser(t, "acme", "second-owner@acme.example", trail.RoleOwner) // the last-owner rule
	if _, _, err := e.db.UpdateUser(context.Background(), "acme", e.owner.ID, func(u *trail.User) error {
		u.DeactivatedAt = e.now()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	resp, body := e.through(t, e.client(t), "acme", "olivia")
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "deactivated") {
		t.Fatalf("callback: %d, want 401 naming the deactivation:\n%s", resp.StatusCode, body)
	}
	e.wantFailure(t, "sso", "user_deactivated")
}

func TestSSOWithoutJustInTime(t *testing.T) { forEachStore(t, testSSOWithoutJustInTime) }

func testSSOWithoutJustInTime(t *testing.T, newEnv envMaker) {
	e := newSSOEnv(t, newEnv, func(p *trail.SSOProvider) { p.CreateUsers = false })
	if resp, body := e.through(t, e.client(t), "acme", "nina"); resp.StatusCode != http.StatusUnauthorized ||
		!strings.Contains(body, "no account") {
		t.Fatalf("callback: %d, want 401 (no account):\n%s", resp.StatusCode, body)
	}
	e.wantFailure(t, "sso", "unknown_user")
	if resp, body := e.through(t, e.client(t), "acme", "olivia"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("existing user: %d, want 303:\n%s", resp.StatusCode, body)
	}
}

func TestSSONoRole(t *testing.T) { forEachStore(t, testSSONoRole) }

func testSSONoRole(t *testing.T, newEnv envMaker) {
	e := newSSOEnv(t, newEnv, func(p *trail.SSOProvider) { p.DefaultRole = "" })
	if resp, _ := e.through(t, e.client(t), "acme", "paul"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("callback: %d, want 401", resp.StatusCode)
	}
	e.wantFailure(t, "sso", "no_role")
	if resp, _ := e.through(t, e.client(t), "acme", "nina"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("mapped user: %d, want 303", resp.StatusCode)
	}
	// An existing user whom the mapping gives no role is refused too, and
	// keeps the role.
	e.op.SetGroups("nina", "staff")
	if resp, _ := e.through(t, e.client(t), "acme", "nina"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("existing user without a mapped role: %d, want 401", resp.StatusCode)
	}
	e.wantFailure(t, "sso", "no_role")
	if u, err := e.db.UserByEmail(t.Context(), "acme", "nina@acme.example"); err != nil || u.Role != trail.RoleAdmin {
		t.Fatalf("nina = %+v, %v; want still an admin", u, err)
	}
}

func TestSSOState(t *testing.T) { forEachStore(t, testSSOState) }

func testSSOState(t *testing.T, newEnv envMaker) {
	e := newSSOEnv(t, newEnv, nil)
	t.Run("ErrUsedTwice", func(t *testing.T) {
		c := e.client(t)
		back := e.signIn(t, c, e.start(t, c, "acme"), "olivia")
		if resp, _ := e.callback(t, c, back); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("first callback: %d", resp.StatusCode)
		}
		if resp, _ := e.callback(t, e.client(t), back); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("replayed callback: %d, want 400", resp.StatusCode)
		}
	})
	t.Run("ErrBadState", func(t *testing.T) {
		c := e.client(t)
		back, _ := url.Parse(e.signIn(t, c, e.start(t, c, "acme"), "olivia"))
		q := back.Query()
		q.Set("state", strings.Repeat("0", 64))
		back.RawQuery = q.Encode()
		if resp, _ := e.callback(t, c, back.String()); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("callback with a made-up state: %d, want 400", resp.StatusCode)
		}
	})
	t.Run("ErrOtherBrowser", func(t *testing.T) {
		// An attacker's sign-in finished in the victim's browser (login
		// CSRF): the state is real, the browser's cookie is not its own.
		attacker := e.client(t)
		back := e.signIn(t, attacker, e.start(t, attacker, "acme"), "olivia")
		victim := e.client(t)
		if resp, _ := e.callback(t, victim, back); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("callback in another browser: %d, want 400", resp.StatusCode)
		}
		e.wantFailure(t, "sso", "state_mismatch")
		if resp, _ := e.callback(t, attacker, back); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("the state works once, whoever used it: %d, want 400", resp.StatusCode)
		}
	})
}

func TestSSOInvalidIDToken(t *testing.T) { forEachStore(t, testSSOInvalidIDToken) }

func testSSOInvalidIDToken(t *testing.T, newEnv envMaker) {
	e := newSSOEnv(t, newEnv, nil)
	// The browser changes what the console asked the provider for: the
	// nonce the ID token must carry, or the PKCE challenge the code must
	// be redeemed with.
	for name, param := range map[string][2]string{
		"ErrWrongNonce":    {"nonce", "a-nonce-of-the-attackers-choosing"},
		"ErrWrongVerifier": {"code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
	} {
		t.Run(name, func(t *testing.T) {
			c := e.client(t)
			u, _ := url.Parse(e.start(t, c, "acme"))
			q := u.Query()
			q.Set(param[0], param[1])
			u.RawQuery = q.Encode()
			if resp, _ := e.callback(t, c, e.signIn(t, c, u.String(), "olivia")); resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("callback: %d, want 401", resp.StatusCode)
			}
			e.wantFailure(t, "sso", "invalid_id_token")
		})
	}
	t.Run("ErrExpired", func(t *testing.T) {
		// The provider's tokens last an hour; the console's clock is two
		// hours ahead of the provider's.
		e.offset.Store(int64(2 * time.Hour))
		defer e.offset.Store(0)
		if resp, _ := e.through(t, e.client(t), "acme", "olivia"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("callback: %d, want 401", resp.StatusCode)
		}
		e.wantFailure(t, "sso", "invalid_id_token")
	})
}

func TestSSORequiredTurnsPasswordsOff(t *testing.T) {
	forEachStore(t, testSSORequiredTurnsPasswordsOff)
}

func testSSORequiredTurnsPasswordsOff(t *testing.T, newEnv envMaker) {
	e := newSSOEnv(t, newEnv, func(p *trail.SSOProvider) { p.Required = true })
	resp, body := e.login(t, e.client(t), "acme", e.owner.Email, password)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "single sign-on only") {
		t.Fatalf("password sign-in: %d, want 403:\n%s", resp.StatusCode, body)
	}
	e.wantFailure(t, "password", "sso_required")
	if resp, _ := e.through(t, e.client(t), "acme", "olivia"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("SSO sign-in: %d, want 303", resp.StatusCode)
	}
	e.signedIn(t, e.globex) // other tenants keep their passwords
	ok := e.recorded(t, "globex", trail.ActionLoginSuccess)
	wantMeta(t, ok[len(ok)-1], map[string]string{"method": "password"})
}

// TestSSOBrowser signs in through the provider's own login page in
// Chromium: the SSO form, the refresh to the provider, its form, the
// callback, and the page the user asked for.
func TestSSOBrowser(t *testing.T) {
	ctx := tab(t) // skips without chromium, unless TRAIL_REQUIRE_ALL
	e := newSSOEnv(t, newEnv, nil)
	run(t, ctx, chromedp.Navigate(e.srv.URL+"/login?next=%2Fsettings"),
		chromedp.SendKeys(chromedp.ID("sso-who"), "nina@acme.example"+kb.Enter),
		chromedp.WaitVisible(chromedp.ID("username")), // the provider's login page
		chromedp.SendKeys(chromedp.ID("username"), "nina"),
		chromedp.SendKeys(chromedp.ID("password"), opPassword+kb.Enter),
		chromedp.WaitVisible(chromedp.ID("h-sso")), // back on the console's settings page
	)
	if got := eval[string](t, ctx, "location.href"); got != e.srv.URL+"/settings" {
		t.Fatalf("signed in at %s, want %s/settings", got, e.srv.URL)
	}
	if got := eval[string](t, ctx, "document.querySelector('.who .badge').textContent"); !strings.Contains(got, "acme · admin") {
		t.Fatalf("header badge %q, want acme · admin", got)
	}
	ok := e.recorded(t, "acme", trail.ActionLoginSuccess)
	wantMeta(t, ok[len(ok)-1], map[string]string{"method": "sso", "role": trail.RoleAdmin})
}

func TestSSOSettingsPage(t *testing.T) { forEachStore(t, testSSOSettingsPage) }

func testSSOSettingsPage(t *testing.T, newEnv envMaker) {
	e := newEnv(t)
	admin := e.signedIn(t, e.admin)
	_, page := e.get(t, admin, "/settings")
	if !strings.Contains(page, e.srv.URL+"/login/sso/callback") {
		t.Fatalf("settings page does not show the redirect URI")
	}
	form := url.Values{"csrf": {csrf(t, page)}, "issuer": {"https://login.acme.example"}, "client_id": {"trail"},
		"client_secret": {"the-client-secret"}, "allowed_domains": {"acme.example, Other.example"},
		"role_claim": {"groups"}, "role_mapping": {"trail-admins = admin\nauditors = member"},
		"default_role": {""}, "create_users": {"on"}}
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("role_mapping", "trail-admins: admin")
	if resp, body := e.post(t, admin, "/settings/sso", bad); resp.StatusCode != http.StatusBadRequest ||
		!strings.Contains(body, "role_mapping") {
		t.Fatalf("bad mapping: %d, want 400 naming role_mapping", resp.StatusCode)
	}
	if resp, _ := e.post(t, admin, "/settings/sso", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d, want 303", resp.StatusCode)
	}
	p, err := e.db.SSOProvider(context.Background(), "acme")
	if err != nil || p.ClientSecret != "the-client-secret" || len(p.Domains) != 2 || p.RoleMap["auditors"] != trail.RoleMember ||
		p.DefaultRole != "" || !p.CreateUsers || p.Required {
		t.Fatalf("stored = %+v, %v", p, err)
	}
	form.Set("client_secret", "") // keeps the stored one
	form.Set("required", "on")
	if resp, _ := e.post(t, admin, "/settings/sso", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("update: %d, want 303", resp.StatusCode)
	}
	_, page = e.get(t, admin, "/settings")
	if strings.Contains(page, "the-client-secret") || !strings.Contains(page, `id="sso-required" checked`) {
		t.Fatalf("settings page shows the secret, or not the saved settings")
	}
	if p, _ := e.db.SSOProvider(context.Background(), "acme"); p.ClientSecret != "the-client-secret" || !p.Required {
		t.Fatalf("after update: %+v", p)
	}
	if resp, _ := e.post(t, admin, "/settings/sso/delete", url.Values{"csrf": {csrf(t, page)}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d, want 303", resp.StatusCode)
	}
	var got []string
	for _, a := range []string{trail.ActionOIDCConfigured, trail.ActionOIDCUpdated, trail.ActionOIDCDisabled} {
		for _, ev := range e.recorded(t, "acme", a) {
			if strings.Contains(string(ev.Metadata), "the-client-secret") {
				t.Fatalf("%s metadata holds the secret: %s", a, ev.Metadata)
			}
			got = append(got, a)
		}
	}
	if strings.Join(got, " ") != "oidc.configured oidc.updated oidc.disabled" {
		t.Fatalf("recorded %v", got)
	}
	member := e.signedIn(t, e.member)
	_, page = e.get(t, member, "/settings") // a 403 page, with the member's token in its sign-out form
	if resp, _ := e.post(t, member, "/settings/sso", url.Values{"csrf": {csrf(t, page)}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("member: %d, want 403", resp.StatusCode)
	}
}

// TestSSORoleMapping: when the provider maps roles, every sign-in gives an
// existing user the role their claims map to, recorded as
// user.role_changed by the provider; the tenant's last owner keeps the
// role, and login.success says why. Without a mapping, Trail's role
// stays.
func TestSSORoleMapping(t *testing.T) { forEachStore(t, testSSORoleMapping) }

func testSSORoleMapping(t *testing.T, newEnv envMaker) {
	e := newSSOEnv(t, newEnv, func(p *trail.SSOProvider) { p.RoleMap["trail-owners"] = trail.RoleOwner })
	signIn := func(t *testing.T, username string) *trail.Event {
		t.Helper()
		if resp, body := e.through(t, e.client(t), "acme", username); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s signs in: %d:\n%s", username, resp.StatusCode, body)
		}
		ok := e.recorded(t, "acme", trail.ActionLoginSuccess)
		return ok[len(ok)-1]
	}
	role := func(t *testing.T) string {
		t.Helper()
		u, err := e.db.UserByEmail(t.Context(), "acme", "nina@acme.example")
		if err != nil {
			t.Fatal(err)
		}
		return u.Role
	}
	wantChanges := func(t *testing.T, want ...string) {
		t.Helper()
		var got []string
		for _, ev := range e.recorded(t, "acme", trail.ActionUserRoleChanged) {
			if ev.Actor.Type != trail.ActorSystem || ev.Actor.ID != "sso" || ev.Actor.Name != e.op.Issuer ||
				ev.Targets[0].Name != "nina@acme.example" || ev.Context.IP != "127.0.0.1" {
				t.Fatalf("user.role_changed %+v: want one by the provider about nina, from the browser's address", ev)
			}
			got = append(got, string(ev.Metadata))
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("user.role_changed metadata %v, want %v", got, want)
		}
	}
	signIn(t, "nina") // created as an admin
	t.Run("Demoted", func(t *testing.T) {
		e.op.SetGroups("nina", "staff")
		wantMeta(t, signIn(t, "nina"), map[string]string{"method": "sso", "role": trail.RoleMember})
		if got := role(t); got != trail.RoleMember {
			t.Fatalf("role %s, want member", got)
		}
		wantChanges(t, `{"after":"member","before":"admin"}`)
	})
	t.Run("Promoted", func(t *testing.T) {
		e.op.SetGroups("nina", "trail-owners", "trail-admins")
		signIn(t, "nina")
		if got := role(t); got != trail.RoleOwner {
			t.Fatalf("role %s, want owner (the most powerful match)", got)
		}
		wantChanges(t, `{"after":"member","before":"admin"}`, `{"after":"owner","before":"member"}`)
	})
	t.Run("SameRoleRecordsNothing", func(t *testing.T) {
		signIn(t, "nina")
		wantChanges(t, `{"after":"member","before":"admin"}`, `{"after":"owner","before":"member"}`)
	})
	t.Run("LastOwnerKeepsTheRole", func(t *testing.T) {
		if _, _, err := e.db.UpdateUser(t.Context(), "acme", e.owner.ID, func(u *trail.User) error {
			u.Role = trail.RoleAdmin // nina is now the last owner
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		e.op.SetGroups("nina")
		ok := signIn(t, "nina")
		wantMeta(t, ok, map[string]string{"role": trail.RoleOwner, "role_mapped": trail.RoleMember, "role_kept": "last_owner"})
		if got := role(t); got != trail.RoleOwner {
			t.Fatalf("the last owner became %s", got)
		}
		wantChanges(t, `{"after":"member","before":"admin"}`, `{"after":"owner","before":"member"}`)
	})
	t.Run("WithoutMappingTrailDecides", func(t *testing.T) {
		e.sso.RoleMap, e.sso.RoleClaim = nil, ""
		if _, err := e.db.SetSSOProvider(t.Context(), e.sso); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.db.UpdateUser(t.Context(), "acme", e.owner.ID, func(u *trail.User) error {
			u.Role = trail.RoleOwner
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		signIn(t, "nina") // the default role is member
		if got := role(t); got != trail.RoleOwner {
			t.Fatalf("without a mapping the role became %s", got)
		}
	})
}

// TestSSOStartRateLimit: each single sign-on start stores a pending
// sign-in, so one address may start only so many in a window; past it the
// form answers 429 with Retry-After and stores nothing.
func TestSSOStartRateLimit(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	_, page := e.get(t, c, "/login")
	form := url.Values{"csrf": {csrf(t, page)}, "who": {"nowhere"}}
	for i := range 100 {
		if resp, _ := e.post(t, c, "/login/sso", form); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("start %d: %d, want 404 for an organization without single sign-on", i+1, resp.StatusCode)
		}
	}
	resp, body := e.post(t, c, "/login/sso", form)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" ||
		!strings.Contains(body, "Too many single sign-on attempts") {
		t.Fatalf("start 101: %d (Retry-After %q), want 429 saying so", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}
