package console

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/sso"
)

// Reasons of a failed SSO sign-in that the console decides, beside the
// ones of package sso.
const (
	reasonDomainNotAllowed = "domain_not_allowed"
	reasonUnknownUser      = "unknown_user"
	reasonNoRole           = "no_role"
	reasonSSORequired      = "sso_required"
	reasonUserDeactivated  = "user_deactivated"
)

// ssoCallbackPath is where providers send browsers back: the redirect URI
// to register with a provider.
const ssoCallbackPath = "/login/sso/callback"

// ssoRedirectView is the page that sends the browser on to its provider.
type ssoRedirectView struct{ URL string }

// handleSSOStart starts a sign-in through the provider of the tenant named,
// or of the one whose allowed domains hold the email given.
func (s *Server) handleSSOStart(w http.ResponseWriter, r *http.Request) error {
	if !s.validLoginCSRF(r) {
		return errStaleLogin
	}
	who := strings.TrimSpace(r.PostFormValue("who"))
	lv := &loginView{SSOWho: who, Next: safeNext(r.PostFormValue("next"))}
	if ok, wait := s.limiter.reserveSSO(s.clientContext(r).IP, s.now()); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		lv.Error = "Too many single sign-on attempts from your address. Wait " + waitText(wait) + ", then try again."
		s.renderLogin(w, r, http.StatusTooManyRequests, lv)
		return nil
	}
	p, hint, err := s.findProvider(r.Context(), who)
	if err == nil {
		err = s.beginSSO(w, r, p, hint, lv.Next)
	}
	if err != nil {
		status, _ := trail.HTTPStatus(trail.ErrorCode(err))
		if status >= 500 {
			s.logger.Error("start single sign-on", "err", err)
		}
		lv.Error = trail.ErrorMessage(err)
		s.renderLogin(w, r, status, lv)
	}
	return nil
}

var errStaleLogin = trail.Errorf(trail.EFORBIDDEN,
	"the sign-in form was stale or came from another site; open the sign-in page and try again")

// validLoginCSRF checks the pre-session CSRF token of a sign-in form.
func (s *Server) validLoginCSRF(r *http.Request) bool {
	c, err := r.Cookie(s.cookieName("trail_login"))
	return err == nil && subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) == 1
}

// findProvider finds the provider for who: an organization's name, or an
// email address whose domain one organization's provider allows. It
// returns the address as a login hint for the provider.
func (s *Server) findProvider(ctx context.Context, who string) (*trail.SSOProvider, string, error) {
	tenant, hint := who, ""
	if strings.Contains(who, "@") {
		hint = trail.NormalizeEmail(who)
		if !trail.ValidEmail(hint) {
			return nil, "", trail.Invalid("who", "enter your organization's name or your work email address")
		}
		tenants, err := s.ssoProviders().ForDomain(ctx, trail.EmailDomain(hint))
		switch {
		case err != nil:
			return nil, "", err
		case len(tenants) == 0:
			return nil, "", trail.Errorf(trail.ENOTFOUND,
				"No organization signs in %s addresses with single sign-on. Enter your organization's name instead.",
				trail.EmailDomain(hint))
		case len(tenants) > 1:
			return nil, "", trail.Errorf(trail.EINVALID,
				"Several organizations use %s. Enter your organization's name instead.", trail.EmailDomain(hint))
		}
		tenant = tenants[0]
	} else if !trail.ValidTenant(tenant) {
		return nil, "", trail.Invalid("who", "enter your organization's name or your work email address")
	}
	p, err := s.ssoProviders().For(ctx, tenant)
	if trail.ErrorCode(err) == trail.ENOTFOUND {
		return nil, "", trail.Errorf(trail.ENOTFOUND, "%s does not sign in with single sign-on; use your password.", tenant)
	}
	return p, hint, err
}

// beginSSO stores a pending sign-in, binds it to the browser with a
// short-lived cookie and sends the browser to the provider. The console's
// Content-Security-Policy allows forms to post only to itself, which
// browsers apply to a form's redirects too, so the way on is a page that
// refreshes to the provider rather than a redirect.
func (s *Server) beginSSO(w http.ResponseWriter, r *http.Request, p *trail.SSOProvider, hint, next string) error {
	authURL, l, binding, err := s.ssoClient(p).Begin(r.Context(), p, s.callbackURL(r), next, hint)
	if err != nil {
		return err
	}
	if err := s.store.CreateSSOLogin(r.Context(), l, s.now()); err != nil {
		return err
	}
	s.setCookie(w, "trail_sso", binding, int(l.ExpiresAt.Sub(s.now()).Seconds()))
	s.render(w, http.StatusOK, "sso", newView(nil, "Signing in", "", &ssoRedirectView{URL: authURL}))
	return nil
}

// callbackURL is the redirect URI of this console as r reached it.
func (s *Server) callbackURL(r *http.Request) string { return s.publicURL(r) + ssoCallbackPath }

// publicURL is the console's address as browsers reach it, without a
// trailing slash: Config.PublicURL, else the request's host.
func (s *Server) publicURL(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimSuffix(s.cfg.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil || s.cfg.SecureCookies {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// handleSSOCallback finishes a sign-in when the provider sends the browser
// back: the state must name a pending sign-in of this browser, the ID
// token must verify, and the user must be allowed in.
func (s *Server) handleSSOCallback(w http.ResponseWriter, r *http.Request) error {
	q, c := query(r), s.clientContext(r)
	ctx := r.Context()
	s.setCookie(w, "trail_sso", "", -1)
	l, err := s.store.TakeSSOLogin(ctx, sso.Hash(q.Get("state")), s.now())
	if err != nil {
		if trail.ErrorCode(err) != trail.ENOTFOUND {
			return err
		}
		s.logger.Warn("single sign-on callback without a pending sign-in", "ip", c.IP)
		return s.ssoFailed(w, r, nil, "", sso.ReasonStateMismatch, "This sign-in expired or was used already. Start again.")
	}
	if bc, err := r.Cookie(s.cookieName("trail_sso")); err != nil || sso.Hash(bc.Value) != l.BindingHash {
		return s.ssoFailed(w, r, l, "", sso.ReasonStateMismatch, "This sign-in was started in another browser. Start again here.")
	}
	u, login, err := s.ssoUser(r, l)
	var f *sso.Failure
	switch {
	case errors.As(err, &f):
		s.logger.Warn("single sign-on refused", "tenant", l.Tenant, "reason", f.Reason, "err", f.Err)
		return s.ssoFailed(w, r, l, f.Email, f.Reason, failureText(f.Reason))
	case err != nil:
		return err
	}
	if err := s.startSession(w, r, u, c, login); err != nil {
		return err
	}
	http.Redirect(w, r, safeNext(l.Next), http.StatusSeeOther)
	return nil
}

// ssoUser verifies the provider's answer for l and returns the user it
// signs in, creating them if the provider allows or giving them the role
// the provider maps them to (see syncSSORole), and what login.success
// records of the sign-in. A refusal is a *sso.Failure.
func (s *Server) ssoUser(r *http.Request, l *trail.SSOLogin) (*trail.User, map[string]any, error) {
	ctx, q := r.Context(), query(r)
	if e := q.Get("error"); e != "" {
		return nil, nil, &sso.Failure{Reason: sso.ReasonProviderError, Err: errors.New(cleanText(e+": "+q.Get("error_description"), 300))}
	}
	p, err := s.ssoProviders().For(ctx, l.Tenant)
	if err != nil {
		return nil, nil, err
	}
	id, err := s.ssoClient(p).Finish(ctx, p, l, s.callbackURL(r), q.Get("code"))
	if err != nil {
		return nil, nil, err
	}
	refuse := func(reason string) error {
		return &sso.Failure{Reason: reason, Email: id.Email, Err: errors.New(id.Email + ": " + reason)}
	}
	if !p.DomainAllowed(id.Email) {
		return nil, nil, refuse(reasonDomainNotAllowed)
	}
	role := p.RoleFor(id.Claims)
	u, err := s.users.UserByEmail(ctx, l.Tenant, id.Email)
	switch {
	case err == nil && !u.Active():
		return nil, nil, refuse(reasonUserDeactivated)
	case err == nil && role == "" && mapsRoles(p, u):
		return nil, nil, refuse(reasonNoRole)
	case err == nil:
		return s.syncSSORole(r, p, u, role)
	case trail.ErrorCode(err) != trail.ENOTFOUND:
		return nil, nil, err
	case !p.CreateUsers:
		return nil, nil, refuse(reasonUnknownUser)
	case role == "":
		return nil, nil, refuse(reasonNoRole)
	}
	u, err = s.createSSOUser(r, l.Tenant, id.Email, role)
	return u, map[string]any{"method": "sso"}, err
}

// createSSOUser creates a user at their first sign-in and records
// user.created.
func (s *Server) createSSOUser(r *http.Request, tenant, email, role string) (*trail.User, error) {
	u, err := trail.NewUser(tenant, email, role, trail.NoPassword, s.now())
	if err != nil {
		return nil, err
	}
	if err := s.users.CreateUser(r.Context(), u); err != nil {
		return nil, err
	}
	meta, _ := json.Marshal(map[string]string{"role": role, "method": "sso"})
	if err := s.audit(r.Context(), tenant, trail.ActionUserCreated, u.Actor(), s.clientContext(r), meta, userTarget(u)); err != nil {
		return nil, err
	}
	return u, nil
}

// failureText is what the sign-in page says about a refusal.
func failureText(reason string) string {
	switch reason {
	case reasonDomainNotAllowed:
		return "Your email domain may not sign in to this organization. Ask an admin to add it."
	case reasonUnknownUser:
		return "You have no account in this organization. Ask an admin to add you."
	case reasonNoRole:
		return "Your groups give you no role in this organization. Ask an admin for access."
	case reasonUserDeactivated:
		return "Your account in this organization is deactivated. Ask an admin to reactivate it."
	case sso.ReasonEmailMissing, sso.ReasonEmailUnverified:
		return "Your provider did not send a verified email address."
	case sso.ReasonProviderError:
		return "Your provider did not sign you in. Try again."
	}
	return "Single sign-on failed: the provider's answer could not be verified. Try again."
}

// ssoFailed records login.failure in l's tenant (when there is one) and
// shows the sign-in page with msg. A failure that cannot be recorded is
// an error page instead, as a password sign-in's is.
func (s *Server) ssoFailed(w http.ResponseWriter, r *http.Request, l *trail.SSOLogin, email, reason, msg string) error {
	status := http.StatusUnauthorized
	if reason == sso.ReasonStateMismatch {
		status = http.StatusBadRequest
	}
	lv := &loginView{Error: msg}
	if l != nil {
		lv.SSOWho, lv.Next = l.Tenant, safeNext(l.Next)
		actor := trail.Actor{Type: trail.ActorUser, ID: "unknown", Name: email}
		if email != "" {
			actor.ID = email
		}
		meta, _ := json.Marshal(map[string]string{"reason": reason, "method": "sso"})
		if err := s.audit(r.Context(), l.Tenant, trail.ActionLoginFailure, actor, s.clientContext(r), meta); err != nil {
			return err
		}
	}
	s.renderLogin(w, r, status, lv)
	return nil
}

// ssoProviders finds tenants' providers, the config file's included.
func (s *Server) ssoProviders() trail.SSOProviders {
	return trail.SSOProviders{Store: s.store, Config: s.cfg.SSOProviders}
}

// ssoClient is the relying party for p: the operator's providers (from
// the config file) may be on any network, tenants' only where forwarders
// may reach.
func (s *Server) ssoClient(p *trail.SSOProvider) *sso.Client {
	if p.ManagedBy == trail.ManagedByConfig {
		return s.ssoOperator
	}
	return s.ssoTenant
}
