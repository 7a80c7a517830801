package console

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/trailhq/trail"
)

// maxFormBytes bounds the body of every console form.
const maxFormBytes = 64 << 10

// loginView is the sign-in form's data.
type loginView struct {
	Tenant, Email, Next string
	SSOWho              string // the organization or email of the SSO form
	Token               string // the pre-session CSRF token
	Error               string
	// Invalid marks the form's fields invalid: the sign-in failed for
	// what was typed, not for a limit or an outage.
	Invalid bool
}

func (s *Server) handleLoginPage(w http.ResponseWriter, r *http.Request) error {
	if v, err := s.viewer(r); err == nil && v != nil {
		http.Redirect(w, r, safeNext(query(r).Get("next")), http.StatusSeeOther)
		return nil
	}
	q := query(r)
	lv := &loginView{Tenant: q.Get("tenant"), Next: safeNext(q.Get("next"))}
	s.renderLogin(w, r, http.StatusOK, lv)
	return nil
}

// renderLogin shows the form with a pre-session CSRF token, which is also
// set as a cookie: a cross-site form cannot read it to send it back. A
// token the browser holds already is kept, so that two open sign-in tabs
// both work.
func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, lv *loginView) {
	lv.Token = s.loginToken(w, r)
	pv := newView(nil, "Sign in", "", lv)
	s.render(w, status, "login", pv)
}

// loginToken returns the browser's pre-session CSRF token, making one
// when it has none, and sets it as the trail_login cookie.
func (s *Server) loginToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(s.cookieName("trail_login")); err == nil && len(c.Value) == 64 {
		if _, err := hex.DecodeString(c.Value); err == nil {
			s.setCookie(w, "trail_login", c.Value, 3600)
			return c.Value
		}
	}
	b := make([]byte, 32)
	rand.Read(b)
	token := hex.EncodeToString(b)
	s.setCookie(w, "trail_login", token, 3600)
	return token
}

// loginAttempt is one POST /login after its form was read.
type loginAttempt struct {
	tenant, email, password string
	ctx                     trail.Context
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return trail.Invalid("form", "could not be read")
	}
	if !s.validLoginCSRF(r) {
		return errStaleLogin
	}
	a := loginAttempt{
		tenant:   strings.TrimSpace(r.PostFormValue("tenant")),
		email:    trail.NormalizeEmail(r.PostFormValue("email")),
		password: r.PostFormValue("password"),
		ctx:      s.clientContext(r),
	}
	lv := &loginView{Tenant: a.tenant, Email: a.email, Next: safeNext(r.PostFormValue("next"))}
	if msg := a.problem(); msg != "" {
		lv.Error, lv.Invalid = msg, true
		s.renderLogin(w, r, http.StatusBadRequest, lv)
		return nil
	}
	u, status, msg := s.checkLogin(w, r, a)
	if u == nil {
		lv.Error, lv.Invalid = msg, status == http.StatusUnauthorized || status == http.StatusBadRequest
		s.renderLogin(w, r, status, lv)
		return nil
	}
	return s.afterPassword(w, r, u, a, lv.Next)
}

// problem names the first missing or malformed field of a sign-in.
func (a *loginAttempt) problem() string {
	switch {
	case !trail.ValidTenant(a.tenant) && a.tenant != trail.OperatorTenant:
		return "Organization: enter your organization's name, such as acme (@operator for operator accounts)."
	case !trail.ValidEmail(a.email):
		return "Email: enter an email address like a@example.com."
	case a.password == "":
		return "Password: enter your password."
	}
	return ""
}

// checkLogin checks a sign-in against the rate limit and the stored
// password and records failures. A good password does not give the
// attempt back: a second step (a code) must pass first. The attempt is counted before the slow
// hash, so parallel guesses are limited as sequential ones are. It returns
// the user, or the status and message to show (with Retry-After set on
// w for a 429).
func (s *Server) checkLogin(w http.ResponseWriter, r *http.Request, a loginAttempt) (*trail.User, int, string) {
	ok, first, wait := s.limiter.reserve(a.ctx.IP, a.tenant, a.email, s.now())
	if !ok {
		if first {
			u, _ := s.users.UserByEmail(r.Context(), a.tenant, a.email) // name the user, as other failures do
			s.recordFailure(r, a, u, "rate_limited")
		}
		w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		return nil, http.StatusTooManyRequests, "Too many failed sign-ins. Wait " + waitText(wait) + ", then try again."
	}
	if status, msg := s.passwordsOff(r, a); status != 0 {
		return nil, status, msg
	}
	u, err := s.users.UserByEmail(r.Context(), a.tenant, a.email)
	switch {
	case trail.ErrorCode(err) == trail.ENOTFOUND:
		CheckPassword(dummyHash(), a.password) // same time as a wrong password
		s.recordFailure(r, a, nil, "unknown_user")
	case err != nil:
		s.logger.Error("sign-in lookup", "err", err)
		return nil, http.StatusServiceUnavailable, "Sign-in is unavailable right now. Try again shortly."
	case !CheckPassword(u.PasswordHash, a.password):
		s.recordFailure(r, a, u, "bad_password")
	case !u.Active():
		s.recordFailure(r, a, u, reasonUserDeactivated)
		return nil, http.StatusForbidden, "This account is deactivated. Ask an owner or admin of " + a.tenant + " to reactivate it."
	default:
		return u, 0, "" // the caller gives the attempt back once the sign-in is complete
	}
	return nil, http.StatusUnauthorized, "Wrong organization, email or password."
}

// passwordsOff refuses a password sign-in to a tenant whose provider
// requires single sign-on, existing users included, and records it. It
// fails closed: when the provider cannot be read, no password is checked.
func (s *Server) passwordsOff(r *http.Request, a loginAttempt) (int, string) {
	p, err := s.ssoProviders().For(r.Context(), a.tenant)
	switch {
	case trail.ErrorCode(err) == trail.ENOTFOUND:
		return 0, ""
	case err != nil:
		s.logger.Error("sign-in lookup", "err", err)
		return http.StatusServiceUnavailable, "Sign-in is unavailable right now. Try again shortly."
	case !p.Required:
		return 0, ""
	}
	u, _ := s.users.UserByEmail(r.Context(), a.tenant, a.email)
	s.recordFailure(r, a, u, reasonSSORequired)
	return http.StatusForbidden, a.tenant + " signs in with single sign-on only. Use “Sign in with SSO” below."
}

// waitText words a wait for the sign-in page, rounded up to whole seconds
// or minutes.
func waitText(d time.Duration) string {
	if d <= time.Minute {
		return fmt.Sprintf("%d seconds", max(1, int((d+time.Second-1)/time.Second)))
	}
	return fmt.Sprintf("%d minutes", int((d+time.Minute-1)/time.Minute))
}

// recordFailure appends login.failure to the tenant's log. For an email
// with no account, it does so only when the tenant has users at all, so
// that anyone on the internet cannot start logs for made-up tenants.
func (s *Server) recordFailure(r *http.Request, a loginAttempt, u *trail.User, reason string) {
	ctx := r.Context()
	actor := trail.Actor{Type: trail.ActorUser, ID: a.email, Name: a.email}
	var targets []trail.Target
	if u != nil {
		actor = u.Actor()
		targets = []trail.Target{userTarget(u)}
	} else if users, err := s.users.Users(ctx, a.tenant); err != nil || len(users) == 0 {
		s.logger.Warn("sign-in failure for a tenant without users", "tenant", a.tenant, "ip", a.ctx.IP, "err", err)
		return
	}
	meta, _ := json.Marshal(map[string]string{"reason": reason, "method": "password"})
	if err := s.audit(ctx, a.tenant, trail.ActionLoginFailure, actor, a.ctx, meta, targets...); err != nil {
		s.logger.Error("record sign-in failure", "err", err)
	}
}

// startSession stores a new session, records login.success with the
// sign-in's method ("password" or "sso", and "mfa": true when a second
// factor passed) and sets the cookie. A sign-in
// that cannot be audited does not happen.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u *trail.User, c trail.Context, login map[string]any) error {
	sess, token := trail.NewSession(u, c, s.cfg.MaxAge, s.now())
	if err := s.users.CreateSession(r.Context(), sess); err != nil {
		return err
	}
	m := map[string]any{"session_id": sess.ID, "role": u.Role}
	maps.Copy(m, login)
	meta, _ := json.Marshal(m)
	if err := s.audit(r.Context(), u.Tenant, trail.ActionLoginSuccess, u.Actor(), c, meta, userTarget(u)); err != nil {
		s.users.RevokeSession(r.Context(), u.Tenant, sess.ID, s.now())
		return err
	}
	s.setCookie(w, "trail_session", token, int(s.cfg.MaxAge.Seconds()))
	s.setCookie(w, "trail_login", "", -1)
	s.setCookie(w, "trail_mfa", "", -1)
	return nil
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request, v *viewer) error {
	ctx := r.Context()
	if err := s.users.RevokeSession(ctx, v.user.Tenant, v.session.ID, s.now()); err != nil &&
		trail.ErrorCode(err) != trail.ENOTFOUND {
		return err
	}
	meta, _ := json.Marshal(map[string]string{"session_id": v.session.ID})
	if err := s.audit(ctx, v.user.Tenant, trail.ActionLogout, v.user.Actor(), s.clientContext(r), meta,
		userTarget(v.user)); err != nil {
		s.logger.Error("record logout", "err", err) // the session is ended either way
	}
	s.setCookie(w, "trail_session", "", -1)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

func (s *Server) handleHome(w http.ResponseWriter, r *http.Request, v *viewer) error {
	http.Redirect(w, r, "/events", http.StatusSeeOther)
	return nil
}

func userTarget(u *trail.User) trail.Target {
	return trail.Target{Type: "user", ID: u.ID, Name: u.Email}
}

// safeNext keeps a post-sign-in redirect on this site. It accepts only a
// path (with an optional query), parsed and written out again, so that
// what the Location header says is what was checked. Anything a browser
// might read as another host is refused: a scheme or host, "//" or a
// backslash (which browsers treat as a slash) at the start, and control
// characters anywhere, raw or percent-encoded (browsers strip tabs and
// newlines, so "/\t/evil.example" becomes "//evil.example").
func safeNext(next string) string {
	const home = "/"
	if !strings.HasPrefix(next, "/") || hasUnsafeByte(next) {
		return home
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return home
	}
	if !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") || hasUnsafeByte(u.Path) {
		return home
	}
	out := &url.URL{Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery}
	s := out.String()
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || hasUnsafeByte(s) {
		return home
	}
	return s
}

// hasUnsafeByte reports a control character or a backslash in s.
func hasUnsafeByte(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return true
		}
	}
	return false
}
