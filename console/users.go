package console

import (
	"context"
	"net/http"

	"github.com/trailhq/trail"
)

// usersView is the data of the Users page.
type usersView struct {
	Users  []*trail.User
	Roles  []string
	Me     *trail.User
	Error  string
	Notice string
	// Reset and ResetLink are set once, right after a reset link is made:
	// the link is shown on that response and never again.
	Reset     *trail.User
	ResetLink string
}

// userNotices are the messages a redirect back to the Users page may ask
// for; any other value shows nothing.
var userNotices = map[string]string{
	"role":        "The role was changed.",
	"deactivated": "The user was deactivated and signed out everywhere.",
	"reactivated": "The user was reactivated.",
	"deleted":     "The user was deleted. Their events keep their id and email.",
	"mfa-reset":   "Multi-factor sign-in was reset: the user signs in with the password alone, or sets it up again.",
}

func (s *Server) handleUsers(w http.ResponseWriter, r *http.Request, v *viewer) error {
	return s.renderUsers(w, r, v, http.StatusOK, &usersView{Notice: userNotices[query(r).Get("notice")]})
}

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, v *viewer, status int, uv *usersView) error {
	users, err := s.users.Users(r.Context(), v.user.Tenant)
	if err != nil {
		return err
	}
	uv.Users, uv.Roles, uv.Me = users, trail.Roles, v.user
	s.render(w, status, "users", newView(v, "Users", "users", uv))
	return nil
}

// record appends events that the console records about users.
func (s *Server) record(ctx context.Context, events []*trail.Event) error {
	if len(events) == 0 {
		return nil
	}
	return s.writer.Append(ctx, &trail.Batch{Events: events})
}

// changeUser makes change to the user of the path as v, records it and
// returns the user after it; see trail.UpdateUserRecorded.
func (s *Server) changeUser(r *http.Request, v *viewer, change func(*trail.User) error, action string) (*trail.User, error) {
	actor, c := v.user.Actor(), s.clientContext(r)
	return trail.UpdateUserRecorded(r.Context(), s.users, s.record, v.user.Tenant, r.PathValue("id"), change,
		func(before, after *trail.User) []*trail.Event {
			events := trail.UserEvents(actor, c, before, after, s.now())
			if action != "" {
				events = append(events, trail.UserEvent(action, actor, c, after, s.now()))
			}
			return events
		})
}

// userFailed shows err on the Users page when it is the user's to fix
// (a rule, a bad value) and as an error page otherwise.
func (s *Server) userFailed(w http.ResponseWriter, r *http.Request, v *viewer, err error) error {
	switch code := trail.ErrorCode(err); code {
	case trail.EINVALID, trail.ECONFLICT, trail.EFORBIDDEN:
		status, _ := trail.HTTPStatus(code)
		return s.renderUsers(w, r, v, status, &usersView{Error: trail.ErrorMessage(err)})
	}
	return err
}

// handleUserChange applies one form of the Users page: a new role,
// deactivation or reactivation.
func (s *Server) handleUserChange(c trail.UserChange, notice string) userHandler {
	return func(w http.ResponseWriter, r *http.Request, v *viewer) error {
		c := c
		if notice == "role" {
			c.Role = r.PostFormValue("role")
		}
		if err := c.Validate(); err != nil {
			return s.userFailed(w, r, v, err)
		}
		_, err := s.changeUser(r, v, func(u *trail.User) error { return c.Apply(v.user.Role, u, s.now()) }, "")
		if err != nil {
			return s.userFailed(w, r, v, err)
		}
		http.Redirect(w, r, "/users?notice="+notice, http.StatusSeeOther)
		return nil
	}
}

func (s *Server) handleDeleteUser(w http.ResponseWriter, r *http.Request, v *viewer) error {
	actor, c := v.user.Actor(), s.clientContext(r)
	_, err := trail.DeleteUserRecorded(r.Context(), s.users, s.record, v.user.Tenant, r.PathValue("id"),
		func(u *trail.User) error { return trail.CheckManages(v.user.Role, u) },
		func(u *trail.User) *trail.Event {
			return trail.UserEvent(trail.ActionUserDeleted, actor, c, u, s.now())
		})
	if err != nil {
		return s.userFailed(w, r, v, err)
	}
	http.Redirect(w, r, "/users?notice=deleted", http.StatusSeeOther)
	return nil
}

// handleResetUserPassword makes a one-time reset link for a user and
// shows it once, for the admin to hand over.
func (s *Server) handleResetUserPassword(w http.ResponseWriter, r *http.Request, v *viewer) error {
	var token string
	u, err := s.changeUser(r, v, func(u *trail.User) (err error) {
		if err := trail.CheckManages(v.user.Role, u); err != nil {
			return err
		}
		token, err = trail.NewPasswordReset(u, s.now())
		return err
	}, trail.ActionUserPasswordReset)
	if err != nil {
		return s.userFailed(w, r, v, err)
	}
	link := s.publicURL(r) + trail.PasswordResetPath(token)
	return s.renderUsers(w, r, v, http.StatusCreated, &usersView{Reset: u, ResetLink: link})
}
