package console_test

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/trailhq/trail"
)

var (
	mfaSecretRE = regexp.MustCompile(`id="mfa-secret" class="mono" readonly value="([A-Z2-7]+)"`)
	recoveryRE  = regexp.MustCompile(`<li>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</li>`)
)

// code is the current TOTP code of secret on the console's clock.
func (e *env) code(t *testing.T, secret string) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, e.now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// nextStep moves the console's clock to the next TOTP time step, so that
// a new code is due.
func (e *env) nextStep() { e.offset.Add(int64(30 * time.Second)) }

// enrolPage reads the secret and the form's CSRF token of an enrolment
// page.
func enrolPage(t *testing.T, page string) (secret, token string) {
	t.Helper()
	m := mfaSecretRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no secret on the page:\n%s", page)
	}
	if !strings.Contains(page, `src="data:image/png;base64,`) {
		t.Fatalf("no QR code on the page:\n%s", page)
	}
	return m[1], csrf(t, page)
}

// recoveryCodes reads the recovery codes shown once after enrolment.
func recoveryCodes(t *testing.T, page string) []string {
	t.Helper()
	var codes []string
	for _, m := range recoveryRE.FindAllStringSubmatch(page, -1) {
		codes = append(codes, m[1])
	}
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes on the page, want 10:\n%s", len(codes), page)
	}
	return codes
}

// enrol turns multi-factor sign-in on for the user of c on the Account
// page and returns the secret and recovery codes.
func (e *env) enrol(t *testing.T, c *http.Client) (string, []string) {
	t.Helper()
	_, page := e.get(t, c, "/account/mfa")
	secret, token := enrolPage(t, page)
	resp, body := e.post(t, c, "/account/mfa", url.Values{"csrf": {token}, "secret": {secret}, "code": {e.code(t, secret)}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("enrol: status %d, want 201:\n%s", resp.StatusCode, body)
	}
	e.nextStep()
	return secret, recoveryCodes(t, body)
}

// secondStep signs c in as u with the password, expecting the code step,
// and sends code; it returns the response of the code.
func (e *env) secondStep(t *testing.T, c *http.Client, u *trail.User, code string) (*http.Response, string) {
	t.Helper()
	resp, body := e.login(t, c, u.Tenant, u.Email, password)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login/mfa" {
		t.Fatalf("password step: %d to %q, want 303 to /login/mfa:\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if findCookie(resp, "trail_session") != nil {
		t.Fatal("the password step set a session cookie")
	}
	if mc := cookie(t, resp, "trail_mfa"); !mc.HttpOnly || mc.MaxAge != 300 {
		t.Fatalf("trail_mfa cookie %+v: want HttpOnly, 5 minutes", mc)
	}
	_, page := e.get(t, c, "/login/mfa")
	return e.post(t, c, "/login/mfa", url.Values{"csrf": {csrf(t, page)}, "code": {code}})
}

func wantMetaKey(t *testing.T, ev *trail.Event, key string, want any) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(ev.Metadata, &m); err != nil || m[key] != want {
		t.Fatalf("%s metadata %s: want %s = %v", ev.Action, ev.Metadata, key, want)
	}
}

func TestMFA(t *testing.T) { forEachStore(t, testMFA) }

func testMFA(t *testing.T, newEnv envMaker) {
	e := newEnv(t)
	owner := e.signedIn(t, e.owner)
	t.Run("ErrEnrolWrongCode", func(t *testing.T) {
		_, page := e.get(t, owner, "/account/mfa")
		secret, token := enrolPage(t, page)
		resp, body := e.post(t, owner, "/account/mfa", url.Values{"csrf": {token}, "secret": {secret}, "code": {"000000"}})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "code: not the code") || !strings.Contains(body, secret) {
			t.Fatalf("status %d, want 400 naming the code and keeping the secret:\n%s", resp.StatusCode, body)
		}
		resp, body = e.post(t, owner, "/account/mfa", url.Values{"csrf": {token}, "secret": {"nope"}, "code": {"000000"}})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "secret: malformed") {
			t.Fatalf("status %d, want 400 naming the secret:\n%s", resp.StatusCode, body)
		}
		if u, _ := e.db.User(t.Context(), "acme", e.owner.ID); u.MFA() {
			t.Fatal("a wrong code turned MFA on")
		}
	})
	secret, codes := e.enrol(t, owner)
	t.Run("Enrolled", func(t *testing.T) {
		u, err := e.db.User(t.Context(), "acme", e.owner.ID)
		if err != nil || u.MFASecret != secret || len(u.MFARecovery) != 10 {
			t.Fatalf("stored user %v: secret %q, %d recovery codes; want %q and 10", err, u.MFASecret, len(u.MFARecovery), secret)
		}
		for _, h := range u.MFARecovery {
			for _, c := range codes {
				if strings.Contains(h, c) || strings.Contains(h, strings.ReplaceAll(c, "-", "")) {
					t.Fatal("a recovery code is stored in plain text")
				}
			}
		}
		evs := e.recorded(t, "acme", trail.ActionMFAEnrolled)
		if len(evs) != 1 || evs[0].Actor.ID != e.owner.ID || evs[0].Targets[0].ID != e.owner.ID {
			t.Fatalf("mfa.enrolled events %v: want one by and about the owner", evs)
		}
		_, page := e.get(t, owner, "/account")
		if !strings.Contains(page, "10 recovery codes left") {
			t.Fatalf("account page does not show MFA on:\n%s", page)
		}
	})
	code := e.code(t, secret)
	t.Run("SignInWithCode", func(t *testing.T) {
		c := e.client(t)
		resp, body := e.secondStep(t, c, e.owner, code)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("code step: status %d, want 303:\n%s", resp.StatusCode, body)
		}
		if status, _ := e.get(t, c, "/events"); status != http.StatusOK {
			t.Fatalf("GET /events after sign-in: %d", status)
		}
		evs := e.recorded(t, "acme", trail.ActionLoginSuccess)
		last := evs[len(evs)-1]
		wantMetaKey(t, last, "mfa", true)
		wantMetaKey(t, last, "method", "password")
	})
	t.Run("ErrReplayedCode", func(t *testing.T) {
		resp, body := e.secondStep(t, e.client(t), e.owner, code)
		if resp.StatusCode != http.StatusUnauthorized || findCookie(resp, "trail_session") != nil {
			t.Fatalf("replayed code: status %d, want 401 and no session:\n%s", resp.StatusCode, body)
		}
	})
	t.Run("ErrWrongCode", func(t *testing.T) {
		resp, body := e.secondStep(t, e.client(t), e.owner, "123456")
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Wrong code") {
			t.Fatalf("wrong code: status %d, want 401:\n%s", resp.StatusCode, body)
		}
		evs := e.recorded(t, "acme", trail.ActionLoginFailure)
		wantReason(t, evs[len(evs)-1], "mfa")
		wantMetaKey(t, evs[len(evs)-1], "method", "password")
	})
	t.Run("RecoveryCodeOnce", func(t *testing.T) {
		resp, body := e.secondStep(t, e.client(t), e.owner, strings.ToUpper(codes[0]))
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("recovery code: status %d, want 303:\n%s", resp.StatusCode, body)
		}
		evs := e.recorded(t, "acme", trail.ActionMFARecoveryCodeUsed)
		if len(evs) != 1 {
			t.Fatalf("%d mfa.recovery_code_used events, want 1", len(evs))
		}
		wantMetaKey(t, evs[0], "remaining", float64(9))
		resp, body = e.secondStep(t, e.client(t), e.owner, codes[0])
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("recovery code again: status %d, want 401:\n%s", resp.StatusCode, body)
		}
	})
	t.Run("ErrPendingLoginUsedOrExpired", func(t *testing.T) {
		e.nextStep()
		c, copy := e.client(t), e.client(t)
		if resp, _ := e.login(t, c, "acme", e.owner.Email, password); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("password step: %d", resp.StatusCode)
		}
		u, _ := url.Parse(e.srv.URL)
		copy.Jar.SetCookies(u, c.Jar.Cookies(u)) // the same pending login in another client
		_, page := e.get(t, c, "/login/mfa")
		token := csrf(t, page)
		if resp, _ := e.post(t, c, "/login/mfa", url.Values{"csrf": {token}, "code": {e.code(t, secret)}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("code step: %d", resp.StatusCode)
		}
		e.nextStep()
		resp, _ := e.post(t, copy, "/login/mfa", url.Values{"csrf": {token}, "code": {e.code(t, secret)}})
		if resp.StatusCode != http.StatusUnauthorized || findCookie(resp, "trail_session") != nil {
			t.Fatalf("second use of a pending login: %d, want 401", resp.StatusCode)
		}
		c = e.client(t)
		resp, _ = e.login(t, c, "acme", e.owner.Email, password)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("password step: %d", resp.StatusCode)
		}
		e.offset.Add(int64(6 * time.Minute))
		_, page = e.get(t, c, "/login")
		resp, _ = e.post(t, c, "/login/mfa", url.Values{"csrf": {csrf(t, page)}, "code": {e.code(t, secret)}})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("expired pending login: %d, want 401", resp.StatusCode)
		}
		if status, _ := e.get(t, c, "/login/mfa"); status != http.StatusSeeOther {
			t.Fatalf("GET /login/mfa without a pending login: %d, want 303 to /login", status)
		}
	})
	t.Run("Disable", func(t *testing.T) {
		resp, body := e.userForm(t, owner, "/account/mfa/disable", url.Values{"password": {"not my password!"}})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "password: not your password") {
			t.Fatalf("wrong password: %d, want 400:\n%s", resp.StatusCode, body)
		}
		resp, body = e.userForm(t, owner, "/account/mfa/disable", url.Values{"password": {password}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("disable: %d, want 303:\n%s", resp.StatusCode, body)
		}
		evs := e.recorded(t, "acme", trail.ActionMFADisabled)
		if len(evs) != 1 {
			t.Fatalf("%d mfa.disabled events, want 1", len(evs))
		}
		wantMetaKey(t, evs[0], "method", "password")
		e.signedIn(t, e.owner) // the password alone again
	})
	t.Run("ErrCodesRateLimited", func(t *testing.T) {
		secret, _ := e.enrol(t, owner)
		c := e.client(t)
		resp, _ := e.secondStep(t, c, e.owner, "111111")
		for range 4 {
			_, page := e.get(t, c, "/login/mfa")
			resp, _ = e.post(t, c, "/login/mfa", url.Values{"csrf": {csrf(t, page)}, "code": {"111111"}})
		}
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("fifth wrong code: %d, want 401", resp.StatusCode)
		}
		_, page := e.get(t, c, "/login/mfa")
		resp, _ = e.post(t, c, "/login/mfa", url.Values{"csrf": {csrf(t, page)}, "code": {e.code(t, secret)}})
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("the right code after 5 wrong ones: %d, want 429 with Retry-After", resp.StatusCode)
		}
	})
}

func TestMFARequired(t *testing.T) { forEachStore(t, testMFARequired) }

func testMFARequired(t *testing.T, newEnv envMaker) {
	e := newEnv(t)
	owner, admin := e.signedIn(t, e.owner), e.signedIn(t, e.admin)
	t.Run("ErrNotOwner", func(t *testing.T) {
		if resp, _ := e.userForm(t, admin, "/settings/mfa", url.Values{"required": {"true"}}); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("admin: %d, want 403", resp.StatusCode)
		}
	})
	t.Run("ErrBadValue", func(t *testing.T) {
		resp, body := e.userForm(t, owner, "/settings/mfa", url.Values{"required": {"yes"}})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "required: must be true or false") {
			t.Fatalf("required=yes: %d, want 400:\n%s", resp.StatusCode, body)
		}
	})
	if resp, body := e.userForm(t, owner, "/settings/mfa", url.Values{"required": {"true"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("require: %d:\n%s", resp.StatusCode, body)
	}
	evs := e.recorded(t, "acme", trail.ActionMFARequiredChanged)
	if len(evs) != 1 || evs[0].Actor.ID != e.owner.ID {
		t.Fatalf("mfa.required_changed events %v: want one by the owner", evs)
	}
	wantMetaKey(t, evs[0], "after", true)
	t.Run("EnrolBeforeSession", func(t *testing.T) {
		c := e.client(t)
		resp, _ := e.login(t, c, "acme", e.member.Email, password)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login/mfa/enroll" ||
			findCookie(resp, "trail_session") != nil {
			t.Fatalf("password step: %d to %q, want 303 to /login/mfa/enroll without a session", resp.StatusCode, resp.Header.Get("Location"))
		}
		if status, _ := e.get(t, c, "/account"); status != http.StatusSeeOther {
			t.Fatalf("GET /account before enrolling: %d, want a redirect to sign in", status)
		}
		_, page := e.get(t, c, "/login/mfa/enroll")
		secret, token := enrolPage(t, page)
		resp, body := e.post(t, c, "/login/mfa/enroll", url.Values{"csrf": {token}, "secret": {secret}, "code": {"000000"}})
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("wrong code: %d, want 400:\n%s", resp.StatusCode, body)
		}
		resp, body = e.post(t, c, "/login/mfa/enroll", url.Values{"csrf": {token}, "secret": {secret}, "code": {e.code(t, secret)}})
		if resp.StatusCode != http.StatusCreated || findCookie(resp, "trail_session") == nil {
			t.Fatalf("enrol: %d, want 201 and a session:\n%s", resp.StatusCode, body)
		}
		recoveryCodes(t, body)
		if status, _ := e.get(t, c, "/account"); status != http.StatusOK {
			t.Fatalf("GET /account after enrolling: %d", status)
		}
		logins := e.recorded(t, "acme", trail.ActionLoginSuccess)
		wantMetaKey(t, logins[len(logins)-1], "mfa", true)
		if evs := e.recorded(t, "acme", trail.ActionMFAEnrolled); len(evs) != 1 || evs[0].Actor.ID != e.member.ID {
			t.Fatalf("mfa.enrolled events %v: want one by the member", evs)
		}
	})
	t.Run("AdminReset", func(t *testing.T) {
		c := e.client(t)
		e.login(t, c, "acme", e.owner.Email, password) // the owner enrols too
		_, page := e.get(t, c, "/login/mfa/enroll")
		secret, token := enrolPage(t, page)
		if resp, body := e.post(t, c, "/login/mfa/enroll", url.Values{"csrf": {token}, "secret": {secret}, "code": {e.code(t, secret)}}); resp.StatusCode != http.StatusCreated {
			t.Fatalf("owner enrols: %d:\n%s", resp.StatusCode, body)
		}
		resp, body := e.userForm(t, admin, "/users/"+e.owner.ID+"/reset-mfa", nil)
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("admin resets the owner: %d, want 403:\n%s", resp.StatusCode, body)
		}
		_, users := e.get(t, admin, "/users")
		if !strings.Contains(users, html.EscapeString("Reset multi-factor sign-in of "+e.member.Email)) {
			t.Fatalf("Users page offers no reset of the member's MFA:\n%s", users)
		}
		resp, body = e.userForm(t, admin, "/users/"+e.member.ID+"/reset-mfa", nil)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("admin resets the member: %d, want 303:\n%s", resp.StatusCode, body)
		}
		evs := e.recorded(t, "acme", trail.ActionMFADisabled)
		if len(evs) != 1 || evs[0].Actor.ID != e.admin.ID || evs[0].Targets[0].ID != e.member.ID {
			t.Fatalf("mfa.disabled events %v: want one by the admin about the member", evs)
		}
		wantMetaKey(t, evs[0], "method", "reset")
		resp, _ = e.login(t, e.client(t), "acme", e.member.Email, password)
		if resp.Header.Get("Location") != "/login/mfa/enroll" {
			t.Fatalf("after the reset the member signs in to %q, want to enrol again", resp.Header.Get("Location"))
		}
	})
}

// TestMFASSOExempt: a tenant that requires multi-factor sign-in still
// signs its users in through its provider at once, even one with
// no second factor in Trail: the provider does multi-factor sign-in.
func TestMFASSOExempt(t *testing.T) { forEachStore(t, testMFASSOExempt) }

func testMFASSOExempt(t *testing.T, newEnv envMaker) {
	e := newSSOEnv(t, newEnv, nil)
	if _, err := e.db.SetMFARequired(t.Context(), "acme", true, e.now()); err != nil {
		t.Fatal(err)
	}
	resp, body := e.through(t, e.client(t), "acme", "olivia")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/settings" || findCookie(resp, "trail_session") == nil {
		t.Fatalf("SSO sign-in with MFA required: %d to %q, want 303 to /settings with a session:\n%s",
			resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if resp, _ := e.login(t, e.client(t), "acme", e.owner.Email, password); resp.Header.Get("Location") != "/login/mfa/enroll" {
		t.Fatalf("password sign-in with MFA required goes to %q, want /login/mfa/enroll", resp.Header.Get("Location"))
	}
}

// TestMFADisableRateLimited: turning multi-factor sign-in off counts
// wrong passwords and codes against the account's sign-in limits.
func TestMFADisableRateLimited(t *testing.T) { forEachStore(t, testMFADisableRateLimited) }

func testMFADisableRateLimited(t *testing.T, newEnv envMaker) {
	e := newEnv(t)
	owner := e.signedIn(t, e.owner)
	e.enrol(t, owner)
	for i := range 5 {
		if resp, _ := e.userForm(t, owner, "/account/mfa/disable", url.Values{"code": {"000000"}}); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("wrong code %d: %d, want 400", i+1, resp.StatusCode)
		}
	}
	resp, body := e.userForm(t, owner, "/account/mfa/disable", url.Values{"password": {password}})
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "Too many") {
		t.Fatalf("the password after 5 wrong codes: %d, want 429:\n%s", resp.StatusCode, body)
	}
	if u, _ := e.db.User(t.Context(), "acme", e.owner.ID); !u.MFA() {
		t.Fatal("a refused attempt turned MFA off")
	}
}
