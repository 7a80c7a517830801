package console

import (
	"net/http"

	"github.com/trailhq/trail"
)

// accountView is the data of the Account page: the viewer's own sessions
// and the password form.
type accountView struct {
	Sessions []sessionRow
	Error    string
	Notice   string
}

var accountNotices = map[string]string{
	"password":        "Your password was changed.",
	"session-revoked": "The session was signed out.",
}

func (s *Server) handleAccount(w http.ResponseWriter, r *http.Request, v *viewer) {
	s.renderAccount(w, r, v, http.StatusOK, &accountView{Notice: accountNotices[query(r).Get("notice")]})
}

func (s *Server) renderAccount(w http.ResponseWriter, r *http.Request, v *viewer, status int, av *accountView) {
	sessions, err := s.users.UserSessions(r.Context(), v.user.Tenant, v.user.ID, s.now())
	if err != nil {
		s.errorPage(w, r, v, err)
		return
	}
	for _, sess := range sessions {
		if sess.Active(s.now(), s.cfg.IdleTimeout) {
			av.Sessions = append(av.Sessions, sessionRow{sess, v.user.Email, sess.ID == v.session.ID})
		}
	}
	s.render(w, status, "account", newView(v, "Account", "account", av))
}

// handleChangePassword sets the viewer's password after checking the
// current one, and records user.password_changed.
func (s *Server) handleChangePassword(w http.ResponseWriter, r *http.Request, v *viewer) {
	current, next := r.PostFormValue("current_password"), r.PostFormValue("new_password")
	fail := func(status int, msg string) { s.renderAccount(w, r, v, status, &accountView{Error: msg}) }
	if !CheckPassword(v.user.PasswordHash, current) {
		fail(http.StatusBadRequest, "Current password: this is not your current password.")
		return
	}
	if next != r.PostFormValue("confirm_password") {
		fail(http.StatusBadRequest, "Confirm new password: the two new passwords differ.")
		return
	}
	hash, err := HashPassword(next)
	if err != nil {
		fail(http.StatusBadRequest, "New "+trail.ErrorMessage(err)+".")
		return
	}
	actor, c := v.user.Actor(), s.clientContext(r)
	_, err = trail.UpdateUserRecorded(r.Context(), s.users, s.record, v.user.Tenant, v.user.ID,
		func(u *trail.User) error { u.PasswordHash = hash; return nil },
		func(_, after *trail.User) []*trail.Event {
			return []*trail.Event{trail.UserEvent(trail.ActionUserPasswordChanged, actor, c, after, s.now())}
		})
	if err != nil {
		s.errorPage(w, r, v, err)
		return
	}
	http.Redirect(w, r, "/account?notice=password", http.StatusSeeOther)
}

// handleRevokeOwnSession signs one of the viewer's own sessions out.
func (s *Server) handleRevokeOwnSession(w http.ResponseWriter, r *http.Request, v *viewer) {
	sessions, err := s.users.UserSessions(r.Context(), v.user.Tenant, v.user.ID, s.now())
	s.revokeSession(w, r, v, sessions, err, "/account")
}

// resetView is the data of the password reset page.
type resetView struct {
	Token string
	Error string
}

// handleResetPage shows the form that sets a new password with a reset
// link's token. The token is the form's secret: a forged form cannot know
// it, so the page needs no other CSRF token.
func (s *Server) handleResetPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, "reset", newView(nil, "Set a new password", "", &resetView{Token: query(r).Get("token")}))
}

// handleReset sets a new password with a reset token, once, and sends
// the user to sign in with it. The user's sessions end.
func (s *Server) handleReset(w http.ResponseWriter, r *http.Request) {
	token, pw := r.PostFormValue("token"), r.PostFormValue("new_password")
	fail := func(status int, msg string) {
		s.render(w, status, "reset", newView(nil, "Set a new password", "", &resetView{Token: token, Error: msg}))
	}
	if pw != r.PostFormValue("confirm_password") {
		fail(http.StatusBadRequest, "Confirm new password: the two passwords differ.")
		return
	}
	hash, err := HashPassword(pw)
	if err != nil {
		fail(http.StatusBadRequest, "New "+trail.ErrorMessage(err)+".")
		return
	}
	u, err := s.users.UsePasswordReset(r.Context(), trail.HashSessionToken(token), hash, s.now())
	if trail.ErrorCode(err) == trail.ENOTFOUND {
		fail(http.StatusNotFound, trail.ErrorMessage(err))
		return
	} else if err != nil {
		s.errorPage(w, r, nil, err)
		return
	}
	s.sessions.endUser(u.Tenant, u.ID)
	e := trail.UserEvent(trail.ActionUserPasswordReset, u.Actor(), s.clientContext(r), u, s.now())
	e.Metadata = []byte(`{"step":"used"}`)
	if err := s.record(r.Context(), []*trail.Event{e}); err != nil {
		s.logger.Error("record password reset", "user", u.ID, "err", err) // the password is set either way
	}
	http.Redirect(w, r, "/login?tenant="+u.Tenant, http.StatusSeeOther)
}
