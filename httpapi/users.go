package httpapi

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/trailhq/trail"
)

// maxUserRequestBytes bounds the body of PATCH /v1/users/{id}.
const maxUserRequestBytes = 16 << 10

type userList struct {
	Users []*trail.User `json:"users"`
}

type sessionList struct {
	Sessions []*trail.Session `json:"sessions"`
}

// passwordReset is the answer to POST /v1/users/{id}/reset-password: the
// only time the token is shown.
type passwordReset struct {
	UserID    string    `json:"user_id"`
	Token     string    `json:"token"`
	Path      string    `json:"path"`
	ExpiresAt time.Time `json:"expires_at"`
}

// usersTenant is whose users a request manages: a tenant key its own
// tenant's; a platform key those of the tenant that ?tenant= names.
func usersTenant(r *http.Request) (string, error) {
	caller, requested := apiKey(r), query(r).Get("tenant")
	switch {
	case caller.Platform && !trail.ValidTenant(requested):
		return "", trail.Invalid("tenant", "required with a platform key: 1 to 64 letters, digits, '.', '_' or '-'")
	case caller.Platform, requested == "" || requested == caller.Tenant:
		return cmp.Or(requested, caller.Tenant), nil
	default:
		return "", trail.Invalid("tenant", fmt.Sprintf("this API key manages users of tenant %q only", caller.Tenant))
	}
}

// pathUser is the tenant and user id a request names; a malformed id is
// "not found", like an unknown one.
func pathUser(r *http.Request) (tenant, id string, err error) {
	if tenant, err = usersTenant(r); err != nil {
		return "", "", err
	}
	if id = r.PathValue("id"); !validPathID(id) {
		return "", "", trail.Errorf(trail.ENOTFOUND, "user not found")
	}
	return tenant, id, nil
}

// userOfPath loads the user a request names.
func (s *Server) userOfPath(r *http.Request) (*trail.User, error) {
	tenant, id, err := pathUser(r)
	if err != nil {
		return nil, err
	}
	return s.store.User(r.Context(), tenant, id)
}

// handleListUsers lists a tenant's users by email.
func (s *Server) handleListUsers(w http.ResponseWriter, r *http.Request) error {
	tenant, err := usersTenant(r)
	if err != nil {
		return err
	}
	users, err := s.store.Users(r.Context(), tenant)
	if err != nil {
		return fmt.Errorf("list users: %w", err)
	}
	writeJSON(w, http.StatusOK, userList{users})
	return nil
}

// userInvite is the body of POST /v1/users.
type userInvite struct {
	Email string `json:"email"`
	Role  string `json:"role"`
}

// userCreated answers POST /v1/users: the new user and the one-time reset
// with which they set their first password, shown only here.
type userCreated struct {
	User  *trail.User   `json:"user"`
	Reset passwordReset `json:"reset"`
}

// unusablePassword is the password hash of a user created through the
// API until they set one: no password matches it.
const unusablePassword = "!"

// handleCreateUser creates a console user without a password and answers
// a one-time reset token for their first one: an API key never handles a
// person's password. The key's role (trail.KeyRole) must manage the new
// user's role. Recorded as user.created and user.password_reset; a user
// whose creation cannot be recorded is removed again.
func (s *Server) handleCreateUser(w http.ResponseWriter, r *http.Request) error {
	tenant, err := usersTenant(r)
	if err != nil {
		return err
	}
	var in userInvite
	if err := readJSON(w, r, maxUserRequestBytes, &in); err != nil {
		return err
	}
	u, err := trail.NewUser(tenant, in.Email, in.Role, unusablePassword, s.now())
	if err != nil {
		return err
	}
	if role := trail.KeyRole(apiKey(r)); !trail.ManagesRole(role, u.Role) {
		return trail.Errorf(trail.EFORBIDDEN, "acting as %s, this key cannot create a user who is %s", role, u.Role)
	}
	token, err := trail.NewPasswordReset(u, s.now())
	if err != nil {
		return err
	}
	ctx, actor, c := r.Context(), apiKey(r).Actor(), s.clientContext(r)
	if err := s.store.CreateUser(ctx, u); err != nil {
		return err
	}
	created := trail.UserEvent(trail.ActionUserCreated, actor, c, u, s.now())
	created.Metadata, _ = json.Marshal(map[string]string{"role": u.Role, "method": "api"})
	reset := trail.UserEvent(trail.ActionUserPasswordReset, actor, c, u, s.now())
	if err := s.appendEvents(ctx, []*trail.Event{created, reset}); err != nil {
		if _, derr := s.store.DeleteUser(context.WithoutCancel(ctx), tenant, u.ID, func(*trail.User) error { return nil }); derr != nil {
			s.logger.Error("remove a user whose creation was not recorded", "user", u.ID, "err", derr)
		}
		return err
	}
	writeJSON(w, http.StatusCreated, userCreated{u, passwordReset{u.ID, token, trail.PasswordResetPath(token), u.ResetExpiresAt}})
	return nil
}

// handleGetUser shows one user.
func (s *Server) handleGetUser(w http.ResponseWriter, r *http.Request) error {
	u, err := s.userOfPath(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

// handlePatchUser changes a user's email, role or whether it is active,
// as far as the key's role (trail.KeyRole) allows, and records each
// change.
func (s *Server) handlePatchUser(w http.ResponseWriter, r *http.Request) error {
	tenant, id, err := pathUser(r)
	if err != nil {
		return err
	}
	body, err := readBody(w, r, maxUserRequestBytes)
	if err != nil {
		return err
	}
	var c trail.UserChange
	if err := decodeJSON(body, &c); err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return err
	}
	role := trail.KeyRole(apiKey(r))
	after, err := s.changeUser(r, tenant, id, func(u *trail.User) error { return c.Apply(role, u, s.now()) }, "")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, after)
	return nil
}

// changeUser makes change to a user and records it (and, when action is
// set, an event of action about the user); see trail.UpdateUserRecorded.
func (s *Server) changeUser(r *http.Request, tenant, id string, change func(*trail.User) error, action string) (*trail.User, error) {
	actor, c := apiKey(r).Actor(), s.clientContext(r)
	return trail.UpdateUserRecorded(r.Context(), s.store, s.appendEvents, tenant, id, change,
		func(before, after *trail.User) []*trail.Event {
			events := trail.UserEvents(actor, c, before, after, s.now())
			if action != "" {
				events = append(events, trail.UserEvent(action, actor, c, after, s.now()))
			}
			return events
		})
}

// appendEvents commits Trail's own events about users.
func (s *Server) appendEvents(ctx context.Context, events []*trail.Event) error {
	if len(events) == 0 {
		return nil
	}
	return s.writer.Append(ctx, &trail.Batch{Events: events})
}

// handleDeleteUser deletes a user and its sessions and records
// user.deleted; its events keep its id and email. A deletion that cannot
// be recorded is undone.
func (s *Server) handleDeleteUser(w http.ResponseWriter, r *http.Request) error {
	tenant, id, err := pathUser(r)
	if err != nil {
		return err
	}
	key := apiKey(r)
	_, err = trail.DeleteUserRecorded(r.Context(), s.store, s.appendEvents, tenant, id,
		func(u *trail.User) error { return trail.CheckManages(trail.KeyRole(key), u) },
		func(u *trail.User) *trail.Event {
			return trail.UserEvent(trail.ActionUserDeleted, key.Actor(), s.clientContext(r), u, s.now())
		})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleResetPassword issues a one-time password reset token for a user
// and shows it once; only its hash is stored. The user sets a new password
// at the console's /password/reset page within trail.PasswordResetTTL.
func (s *Server) handleResetPassword(w http.ResponseWriter, r *http.Request) error {
	tenant, id, err := pathUser(r)
	if err != nil {
		return err
	}
	role, token := trail.KeyRole(apiKey(r)), ""
	issue := func(u *trail.User) error {
		if err := trail.CheckManages(role, u); err != nil {
			return err
		}
		token, err = trail.NewPasswordReset(u, s.now())
		return err
	}
	u, err := s.changeUser(r, tenant, id, issue, trail.ActionUserPasswordReset)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, passwordReset{u.ID, token, trail.PasswordResetPath(token), u.ResetExpiresAt})
	return nil
}

// handleListUserSessions lists a user's live sessions, newest first.
func (s *Server) handleListUserSessions(w http.ResponseWriter, r *http.Request) error {
	u, err := s.userOfPath(r)
	if err != nil {
		return err
	}
	sessions, err := s.store.UserSessions(r.Context(), u.Tenant, u.ID, s.now())
	if err != nil {
		return fmt.Errorf("list sessions: %w", err)
	}
	writeJSON(w, http.StatusOK, sessionList{sessions})
	return nil
}

// handleRevokeUserSession ends one of a user's sessions: its browser is
// signed out and its live tail ends within one poll. The revocation is
// recorded before it is made, so a failure in between leaves a duplicate
// record on retry, never a missing one.
func (s *Server) handleRevokeUserSession(w http.ResponseWriter, r *http.Request) error {
	u, err := s.userOfPath(r)
	if err != nil {
		return err
	}
	tenant, id := u.Tenant, u.ID
	if err := trail.CheckManages(trail.KeyRole(apiKey(r)), u); err != nil {
		return err
	}
	sid := r.PathValue("session")
	sessions, err := s.store.UserSessions(r.Context(), tenant, id, s.now())
	if err != nil {
		return fmt.Errorf("list sessions: %w", err)
	}
	if !hasSession(sessions, sid) {
		return trail.Errorf(trail.ENOTFOUND, "user %s has no active session %q", id, sid)
	}
	e := trail.UserEvent(trail.ActionSessionRevoked, apiKey(r).Actor(), s.clientContext(r), u, s.now())
	e.Targets = append(e.Targets, trail.Target{Type: "session", ID: sid})
	e.Metadata, _ = json.Marshal(map[string]string{"session_id": sid, "user_id": id})
	if err := s.appendEvents(r.Context(), []*trail.Event{e}); err != nil {
		return fmt.Errorf("record session revocation: %w", err)
	}
	if err := s.store.RevokeSession(r.Context(), tenant, sid, s.now()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func hasSession(sessions []*trail.Session, id string) bool {
	for _, s := range sessions {
		if s.ID == id {
			return true
		}
	}
	return false
}
