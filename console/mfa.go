package console

import (
	"encoding/json"
	"html/template"
	"net/http"
	"strings"

	"github.com/trailhq/trail"
)

// mfaView is the data of the multi-factor pages: the code step of a
// sign-in, enrolment (with Secret), or the recovery codes shown once
// after it (with Codes).
type mfaView struct {
	Action   string // where the form posts
	Token    string // the form's CSRF token
	Secret   string
	QR       template.URL
	Required bool // the tenant requires a second factor
	Codes    []string
	Continue string // where to go after the recovery codes
	Error    string
}

func (s *Server) renderMFA(w http.ResponseWriter, status int, v *viewer, title string, mv *mfaView) error {
	if v != nil {
		mv.Token = v.session.CSRF
	}
	s.render(w, status, "mfa", newView(v, title, "account", mv))
	return nil
}

// renderEnrol shows the enrolment form for u: a fresh secret, or the one
// the form sent back (after a wrong code).
func (s *Server) renderEnrol(w http.ResponseWriter, status int, v *viewer, u *trail.User, mv *mfaView) error {
	var err error
	if mv.Secret == "" {
		mv.Secret, mv.QR, err = newTOTPKey(u)
	} else {
		mv.QR, err = totpQR(u, mv.Secret)
	}
	if err != nil {
		return err
	}
	return s.renderMFA(w, status, v, "Set up multi-factor sign-in", mv)
}

// enrol turns multi-factor sign-in on for tenant's user id with the form's
// secret, once its code proves the user's app has it, and records
// mfa.enrolled. It returns the recovery codes to show once; EINVALID
// for a bad secret or code.
func (s *Server) enrol(r *http.Request, tenant, id string) ([]string, error) {
	secret, code := strings.TrimSpace(r.PostFormValue("secret")), r.PostFormValue("code")
	if !validSecret(secret) {
		return nil, trail.Invalid("secret", "malformed; start the set-up again")
	}
	step, ok := totpStep(secret, code, s.now())
	if !ok {
		return nil, trail.Invalid("code", "not the code your app shows for this key; check the app's clock and try again")
	}
	codes, hashes := newRecoveryCodes()
	c := s.clientContext(r)
	_, err := trail.UpdateUserRecorded(r.Context(), s.users, s.record, tenant, id,
		func(u *trail.User) error {
			if u.MFA() {
				return trail.Errorf(trail.ECONFLICT, "multi-factor sign-in is on already")
			}
			u.MFASecret, u.MFARecovery, u.MFALastStep = secret, hashes, step
			return nil
		},
		func(_, after *trail.User) []*trail.Event {
			return []*trail.Event{trail.UserEvent(trail.ActionMFAEnrolled, after.Actor(), c, after, s.now())}
		})
	return codes, err
}

// handleEnrolPage shows the Account page's enrolment form.
func (s *Server) handleEnrolPage(w http.ResponseWriter, r *http.Request, v *viewer) error {
	if v.user.MFA() || v.user.PasswordHash == "" {
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return nil
	}
	return s.renderEnrol(w, http.StatusOK, v, v.user, &mfaView{Action: "/account/mfa"})
}

// handleEnrol turns the viewer's multi-factor sign-in on and shows the
// recovery codes once.
func (s *Server) handleEnrol(w http.ResponseWriter, r *http.Request, v *viewer) error {
	codes, err := s.enrol(r, v.user.Tenant, v.user.ID)
	if trail.ErrorCode(err) == trail.EINVALID {
		mv := &mfaView{Action: "/account/mfa", Error: trail.ErrorMessage(err) + ".", Secret: r.PostFormValue("secret")}
		if !validSecret(mv.Secret) {
			mv.Secret = ""
		}
		return s.renderEnrol(w, http.StatusBadRequest, v, v.user, mv)
	} else if err != nil {
		return err
	}
	return s.renderMFA(w, http.StatusCreated, v, "Recovery codes", &mfaView{Codes: codes, Continue: "/account"})
}

// handleDisableMFA turns the viewer's multi-factor sign-in off, given a
// current code or the password, and records mfa.disabled. Attempts count
// against the account's sign-in limits: a stolen session must not be a
// way to guess codes or the password.
func (s *Server) handleDisableMFA(w http.ResponseWriter, r *http.Request, v *viewer) error {
	code, password := r.PostFormValue("code"), r.PostFormValue("password")
	method := "code"
	if code == "" {
		method = "password"
	}
	a := loginAttempt{tenant: v.user.Tenant, email: v.user.Email, ctx: s.clientContext(r)}
	if msg, ok := s.reserveCode(w, r, a, v.user); !ok {
		return s.renderAccount(w, r, v, http.StatusTooManyRequests, &accountView{Error: msg})
	}
	var recovery bool
	err := s.setMFAOff(r, v, v.user.ID, method, func(u *trail.User) error {
		switch {
		case method == "password" && !CheckPassword(u.PasswordHash, password):
			return trail.Invalid("password", "not your password")
		case method == "code" && useCode(code, s.now(), &recovery)(u) != nil:
			return trail.Invalid("code", "wrong, or used already")
		}
		return nil
	})
	switch trail.ErrorCode(err) {
	case "":
		s.limiter.succeed(a.ctx.IP, a.tenant, a.email)
		http.Redirect(w, r, "/account?notice=mfa-off", http.StatusSeeOther)
		return nil
	case trail.EINVALID, trail.ECONFLICT:
		status, _ := trail.HTTPStatus(trail.ErrorCode(err))
		return s.renderAccount(w, r, v, status, &accountView{Error: "To turn multi-factor sign-in off, enter a current code or your password: " + trail.ErrorMessage(err) + "."})
	}
	return err
}

// setMFAOff turns off the multi-factor sign-in of the viewer's tenant's
// user id once check accepts the user as stored, and records mfa.disabled
// with method (code, password or reset).
func (s *Server) setMFAOff(r *http.Request, v *viewer, id, method string, check func(*trail.User) error) error {
	actor, c := v.user.Actor(), s.clientContext(r)
	meta, _ := json.Marshal(map[string]string{"method": method})
	_, err := trail.UpdateUserRecorded(r.Context(), s.users, s.record, v.user.Tenant, id,
		func(u *trail.User) error {
			if !u.MFA() {
				return trail.Errorf(trail.ECONFLICT, "%s has no multi-factor sign-in", u.Email)
			}
			if err := check(u); err != nil {
				return err
			}
			u.MFASecret, u.MFARecovery, u.MFALastStep = "", nil, 0
			return nil
		},
		func(_, after *trail.User) []*trail.Event {
			e := trail.UserEvent(trail.ActionMFADisabled, actor, c, after, s.now())
			e.Metadata = meta
			return []*trail.Event{e}
		})
	return err
}

// handleResetMFA turns off the multi-factor sign-in of a user that the
// viewer manages (Users page), for one who lost their authenticator.
func (s *Server) handleResetMFA(w http.ResponseWriter, r *http.Request, v *viewer) error {
	err := s.setMFAOff(r, v, r.PathValue("id"), "reset", func(u *trail.User) error { return trail.CheckManages(v.user.Role, u) })
	if err != nil {
		return s.userFailed(w, r, v, err)
	}
	http.Redirect(w, r, "/users?notice=mfa-reset", http.StatusSeeOther)
	return nil
}

// handleRequireMFA is the owner's switch that requires multi-factor
// sign-in of the tenant's password users; it records
// mfa.required_changed when it changes.
func (s *Server) handleRequireMFA(w http.ResponseWriter, r *http.Request, v *viewer) error {
	if v.user.Role != trail.RoleOwner {
		return trail.Errorf(trail.EFORBIDDEN, "only an owner can require multi-factor sign-in")
	}
	var required bool
	switch r.PostFormValue("required") {
	case "true":
		required = true
	case "false":
	default:
		return s.renderSettings(w, r, v, http.StatusBadRequest, &settingsView{Error: "required: must be true or false."})
	}
	if _, err := trail.SetMFARequiredRecorded(r.Context(), s.store, s.record, v.user.Tenant, required,
		v.user.Actor(), s.clientContext(r), s.now()); err != nil {
		return err
	}
	http.Redirect(w, r, "/settings?notice=mfa-required#mfa", http.StatusSeeOther)
	return nil
}
