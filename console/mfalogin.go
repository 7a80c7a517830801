package console

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/trailhq/trail"
)

// The second step of a password sign-in. A user with multi-factor sign-in
// gives a code (or a recovery code); a user of a tenant that requires it
// and has none sets it up first. Between the steps the browser holds a
// pending login's token in the HttpOnly trail_mfa cookie, for five
// minutes, and the store its hash; the sign-in uses it up.

// errNoPending is a second step without a live pending login.
var errNoPending = trail.Errorf(trail.EUNAUTHORIZED, "your sign-in expired or was completed already; sign in again")

// afterPassword goes on with a sign-in whose password was right: straight
// to a session, or to the code or enrolment step.
func (s *Server) afterPassword(w http.ResponseWriter, r *http.Request, u *trail.User, a loginAttempt, next string) error {
	required, err := s.store.MFARequired(r.Context(), u.Tenant)
	if err != nil {
		return err
	}
	if !u.MFA() && !required {
		s.limiter.succeed(a.ctx.IP, a.tenant, a.email)
		if err := s.startSession(w, r, u, a.ctx, map[string]any{"method": "password"}); err != nil {
			return err
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	l, token := trail.NewMFALogin(u, next, !u.MFA(), s.now())
	if err := s.store.CreateMFALogin(r.Context(), l, s.now()); err != nil {
		return err
	}
	s.setCookie(w, "trail_mfa", token, int(trail.MFALoginTTL.Seconds()))
	// The right password does not count, but failures stay counted until
	// the second step passes: clearing them here would let a guesser who
	// has the password sign in again between wrong codes.
	s.limiter.release(a.ctx.IP, a.tenant, a.email)
	if l.Enroll {
		http.Redirect(w, r, "/login/mfa/enroll", http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, "/login/mfa", http.StatusSeeOther)
	return nil
}

// pendingLogin reads the pending login of the browser's trail_mfa cookie,
// of the step wanted (enrolment or code), and its user, who must still be
// active.
func (s *Server) pendingLogin(r *http.Request, enroll bool) (*trail.MFALogin, *trail.User, error) {
	c, err := r.Cookie(s.cookieName("trail_mfa"))
	if err != nil || c.Value == "" {
		return nil, nil, errNoPending
	}
	l, err := s.store.MFALogin(r.Context(), trail.HashSessionToken(c.Value), s.now())
	if trail.ErrorCode(err) == trail.ENOTFOUND || err == nil && l.Enroll != enroll {
		return nil, nil, errNoPending
	} else if err != nil {
		return nil, nil, err
	}
	u, err := s.users.User(r.Context(), l.Tenant, l.UserID)
	if trail.ErrorCode(err) == trail.ENOTFOUND || err == nil && (!u.Active() || u.MFA() == enroll) {
		return nil, nil, errNoPending
	}
	return l, u, err
}

// pendingPage answers a GET of a second step: the page, or the sign-in
// page when there is nothing pending.
func (s *Server) pendingPage(w http.ResponseWriter, r *http.Request, enroll bool) (*trail.User, bool, error) {
	_, u, err := s.pendingLogin(r, enroll)
	if err == errNoPending {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil, false, nil
	}
	return u, err == nil, err
}

func (s *Server) handleMFAPage(w http.ResponseWriter, r *http.Request) error {
	if _, ok, err := s.pendingPage(w, r, false); !ok {
		return err
	}
	return s.renderMFA(w, http.StatusOK, nil, "Enter your code", &mfaView{Action: "/login/mfa", Token: s.loginToken(w, r)})
}

// handleMFALogin checks the second step's code. Wrong codes count against
// the sign-in limits of the account, so codes cannot be guessed.
func (s *Server) handleMFALogin(w http.ResponseWriter, r *http.Request) error {
	l, u, a, refused, err := s.pendingAttempt(w, r, false)
	if err != nil {
		return err
	}
	fail := func(status int, msg string) error {
		return s.renderMFA(w, status, nil, "Enter your code", &mfaView{Action: "/login/mfa", Token: s.loginToken(w, r), Error: msg})
	}
	if refused != "" {
		return fail(http.StatusTooManyRequests, refused)
	}
	var recovery bool
	_, after, err := s.users.UpdateUser(r.Context(), u.Tenant, u.ID, useCode(r.PostFormValue("code"), s.now(), &recovery))
	if errors.Is(err, errWrongCode) {
		s.recordFailure(r, a, u, reasonMFA)
		return fail(http.StatusUnauthorized, "Wrong code, or a code used already. Enter the current code of your app, or a recovery code.")
	} else if err != nil {
		return err
	}
	return s.completeMFA(w, r, l, after, a, recovery)
}

// pendingAttempt checks the form of a second step (its CSRF token and
// pending login) and counts it against the sign-in limits of the account;
// refused is the message to show when they refuse it.
func (s *Server) pendingAttempt(w http.ResponseWriter, r *http.Request, enroll bool) (l *trail.MFALogin, u *trail.User,
	a loginAttempt, refused string, err error) {
	if !s.validLoginCSRF(r) {
		return nil, nil, a, "", errStaleLogin
	}
	if l, u, err = s.pendingLogin(r, enroll); err != nil {
		return nil, nil, a, "", err
	}
	a = loginAttempt{tenant: u.Tenant, email: u.Email, ctx: s.clientContext(r)}
	refused, _ = s.reserveCode(w, r, a, u)
	return l, u, a, refused, nil
}

// reasonMFA is the login.failure reason of a wrong second-step code.
const reasonMFA = "mfa"

// reserveCode counts a code attempt against the sign-in limits; when
// they refuse it, it records that once and returns the message to show.
func (s *Server) reserveCode(w http.ResponseWriter, r *http.Request, a loginAttempt, u *trail.User) (string, bool) {
	ok, first, wait := s.limiter.reserve(a.ctx.IP, a.tenant, a.email, s.now())
	if ok {
		return "", true
	}
	if first {
		s.recordFailure(r, a, u, "rate_limited")
	}
	w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
	return "Too many failed sign-ins. Wait " + waitText(wait) + ", then try again.", false
}

// completeMFA ends a pending login that passed its second step: it uses
// the pending login up (of two racing requests, one wins), records a
// recovery code's use and starts the session.
func (s *Server) completeMFA(w http.ResponseWriter, r *http.Request, l *trail.MFALogin, u *trail.User, a loginAttempt, recovery bool) error {
	if err := s.store.DeleteMFALogin(r.Context(), l.Hash); trail.ErrorCode(err) == trail.ENOTFOUND {
		return errNoPending
	} else if err != nil {
		return err
	}
	s.limiter.succeed(a.ctx.IP, a.tenant, a.email)
	if recovery {
		meta, _ := json.Marshal(map[string]int{"remaining": len(u.MFARecovery)})
		if err := s.audit(r.Context(), u.Tenant, trail.ActionMFARecoveryCodeUsed, u.Actor(), a.ctx, meta, userTarget(u)); err != nil {
			return err
		}
	}
	if err := s.startSession(w, r, u, a.ctx, map[string]any{"method": "password", "mfa": true}); err != nil {
		return err
	}
	if l.Enroll {
		return nil
	}
	http.Redirect(w, r, l.Next, http.StatusSeeOther)
	return nil
}

func (s *Server) handleMFAEnrolPage(w http.ResponseWriter, r *http.Request) error {
	u, ok, err := s.pendingPage(w, r, true)
	if !ok {
		return err
	}
	return s.renderEnrol(w, http.StatusOK, nil, u, &mfaView{Action: "/login/mfa/enroll", Token: s.loginToken(w, r), Required: true})
}

// handleMFAEnrol sets up the multi-factor sign-in that the tenant
// requires, starts the session and shows the recovery codes once.
func (s *Server) handleMFAEnrol(w http.ResponseWriter, r *http.Request) error {
	l, u, a, refused, err := s.pendingAttempt(w, r, true)
	if err != nil {
		return err
	}
	mv := &mfaView{Action: "/login/mfa/enroll", Token: s.loginToken(w, r), Required: true}
	if refused != "" {
		mv.Error = refused
		return s.renderEnrol(w, http.StatusTooManyRequests, nil, u, mv)
	}
	codes, err := s.enrol(r, u.Tenant, u.ID)
	if trail.ErrorCode(err) == trail.EINVALID {
		mv.Error = trail.ErrorMessage(err) + "."
		if secret := r.PostFormValue("secret"); validSecret(secret) {
			mv.Secret = secret
		}
		return s.renderEnrol(w, http.StatusBadRequest, nil, u, mv)
	} else if err != nil {
		return err
	}
	after, err := s.users.User(r.Context(), u.Tenant, u.ID)
	if err != nil {
		return err
	}
	if err := s.completeMFA(w, r, l, after, a, false); err != nil {
		return err
	}
	return s.renderMFA(w, http.StatusCreated, nil, "Recovery codes", &mfaView{Codes: codes, Continue: l.Next})
}
