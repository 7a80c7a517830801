package console

import (
	"encoding/json"
	"net/http"
	"slices"

	"github.com/trailhq/trail"
)

// accountView is the data of the Account page: the viewer's own sessions
// and the password form.
type accountView struct {
	Sessions []sessionRow
	Error    string
	Notice   string
	// RecoveryLeft counts the viewer's unused recovery codes.
	RecoveryLeft int
}

var accountNotices = map[string]string{
	"password":        "Your password was changed.",
	"session-revoked": "The session was signed out.",
	"mfa-off":         "Multi-factor sign-in is off.",
}

func (s *Server) handleAccount(w http.ResponseWriter, r *http.Request, v *viewer) error {
	return s.renderAccount(w, r, v, http.StatusOK, &accountView{Notice: accountNotices[query(r).Get("notice")]})
}

func (s *Server) renderAccount(w http.ResponseWriter, r *http.Request, v *viewer, status int, av *accountView) error {
	sessions, err := s.users.UserSessions(r.Context(), v.user.Tenant, v.user.ID, s.now())
	if err != nil {
		return err
	}
	av.RecoveryLeft = len(v.user.MFARecovery)
	for _, sess := range sessions {
		if sess.Active(s.now(), s.cfg.IdleTimeout) {
			av.Sessions = append(av.Sessions, sessionRow{sess, v.user.Email, sess.ID == v.session.ID})
		}
	}
	s.render(w, status, "account", newView(v, "Account", "account", av))
	return nil
}

// handleChangePassword sets the viewer's password after checking the
// current one, and records user.password_changed.
func (s *Server) handleChangePassword(w http.ResponseWriter, r *http.Request, v *viewer) error {
	current, next := r.PostFormValue("current_password"), r.PostFormValue("new_password")
	fail := func(msg string) error {
		return s.renderAccount(w, r, v, http.StatusBadRequest, &accountView{Error: msg})
	}
	if !CheckPassword(v.user.PasswordHash, current) {
		return fail("Current password: this is not your current password.")
	}
	if next != r.PostFormValue("confirm_password") {
		return fail("Confirm new password: the two new passwords differ.")
	}
	hash, err := HashPassword(next)
	if err != nil {
		return fail("New " + trail.ErrorMessage(err) + ".")
	}
	others, err := s.otherSessions(r, v)
	if err != nil {
		return err
	}
	actor, c := v.user.Actor(), s.clientContext(r)
	meta, _ := json.Marshal(map[string]int{"other_sessions_ended": len(others)})
	_, err = trail.UpdateUserRecorded(r.Context(), s.users, s.record, v.user.Tenant, v.user.ID,
		func(u *trail.User) error { u.PasswordHash = hash; return nil },
		func(_, after *trail.User) []*trail.Event {
			e := trail.UserEvent(trail.ActionUserPasswordChanged, actor, c, after, s.now())
			e.Metadata = meta
			return []*trail.Event{e}
		})
	if err != nil {
		return err
	}
	// Whoever else knew the old password is signed out everywhere; this
	// browser stays signed in.
	for _, sess := range others {
		if err := s.users.RevokeSession(r.Context(), v.user.Tenant, sess.ID, s.now()); err != nil {
			return err
		}
		s.sessions.end(v.user.Tenant, sess.ID)
	}
	http.Redirect(w, r, "/account?notice=password", http.StatusSeeOther)
	return nil
}

// otherSessions returns the viewer's active sessions but this one.
func (s *Server) otherSessions(r *http.Request, v *viewer) ([]*trail.Session, error) {
	sessions, err := s.users.UserSessions(r.Context(), v.user.Tenant, v.user.ID, s.now())
	return slices.DeleteFunc(sessions, func(sess *trail.Session) bool { return sess.ID == v.session.ID }), err
}

// handleRevokeOwnSession signs one of the viewer's own sessions out.
func (s *Server) handleRevokeOwnSession(w http.ResponseWriter, r *http.Request, v *viewer) error {
	sessions, err := s.users.UserSessions(r.Context(), v.user.Tenant, v.user.ID, s.now())
	if err != nil {
		return err
	}
	return s.revokeSession(w, r, v, sessions, "/account")
}

// resetView is the data of the password reset page.
type resetView struct {
	Token string
	Error string
}

// handleResetPage shows the form that sets a new password with a reset
// link's token. The token is the form's secret: a forged form cannot know
// it, so the page needs no other CSRF token.
func (s *Server) handleResetPage(w http.ResponseWriter, r *http.Request) error {
	s.render(w, http.StatusOK, "reset", newView(nil, "Set a new password", "", &resetView{Token: query(r).Get("token")}))
	return nil
}

// handleReset sets a new password with a reset token, once, and sends
// the user to sign in with it. The user's sessions end.
func (s *Server) handleReset(w http.ResponseWriter, r *http.Request) error {
	token, pw := r.PostFormValue("token"), r.PostFormValue("new_password")
	fail := func(status int, msg string) error {
		s.render(w, status, "reset", newView(nil, "Set a new password", "", &resetView{Token: token, Error: msg}))
		return nil
	}
	if pw != r.PostFormValue("confirm_password") {
		return fail(http.StatusBadRequest, "Confirm new password: the two passwords differ.")
	}
	hash, err := HashPassword(pw)
	if err != nil {
		return fail(http.StatusBadRequest, "New "+trail.ErrorMessage(err)+".")
	}
	u, err := s.users.UsePasswordReset(r.Context(), trail.HashSessionToken(token), hash, s.now())
	if trail.ErrorCode(err) == trail.ENOTFOUND {
		return fail(http.StatusNotFound, trail.ErrorMessage(err))
	} else if err != nil {
		return err
	}
	s.sessions.endUser(u.Tenant, u.ID)
	e := trail.UserEvent(trail.ActionUserPasswordReset, u.Actor(), s.clientContext(r), u, s.now())
	e.Metadata = []byte(`{"step":"used"}`)
	if err := s.record(r.Context(), []*trail.Event{e}); err != nil {
		s.logger.Error("record password reset", "user", u.ID, "err", err) // the password is set either way
	}
	http.Redirect(w, r, "/login?tenant="+u.Tenant, http.StatusSeeOther)
	return nil
}
