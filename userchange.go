package trail

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"
)

// PasswordResetTTL is how long a password reset token works.
const PasswordResetTTL = 24 * time.Hour

// ManagesRole reports whether someone acting with role actor may manage a
// user with role target, or give a user role target. Owners manage
// everyone; admins manage members and admins, never owners (so an admin
// cannot make anyone an owner either); members manage no one.
func ManagesRole(actor, target string) bool {
	switch actor {
	case RoleOwner:
		return true
	case RoleAdmin:
		return target == RoleAdmin || target == RoleMember
	}
	return false
}

// KeyRole is the role an API key with the admin scope acts with on users:
// a platform key is the operator's, above every tenant, and acts as an
// owner; a tenant key is a shared machine credential and acts as an admin,
// so it never manages owners.
func KeyRole(k *APIKey) string {
	if k.Platform {
		return RoleOwner
	}
	return RoleAdmin
}

// UserChange is a change to a user that someone asks for. Zero fields
// keep what the user has.
type UserChange struct {
	Email  string `json:"email,omitempty"`
	Role   string `json:"role,omitempty"`
	Active *bool  `json:"active,omitempty"`
}

// Validate names every malformed field of c.
func (c *UserChange) Validate() error {
	var p Problems
	if c.Email != "" && !ValidEmail(NormalizeEmail(c.Email)) {
		p.Add(-1, "email", "must be an email address like a@example.com")
	}
	if c.Role != "" && !slices.Contains(Roles, c.Role) {
		p.Add(-1, "role", "must be owner, admin or member")
	}
	if c.Email == "" && c.Role == "" && c.Active == nil {
		p.Add(-1, "body", "nothing to change: give email, role or active")
	}
	return p.Err()
}

// Apply makes c to u at now, if someone acting with role actor may: they
// must manage u's role and, for a new role, that role too (EFORBIDDEN).
// The store's UpdateUser calls it with the user as stored, inside its
// transaction, so the check sees the current role.
func (c *UserChange) Apply(actor string, u *User, now time.Time) error {
	if err := CheckManages(actor, u); err != nil {
		return err
	}
	if c.Role != "" && !ManagesRole(actor, c.Role) {
		return Errorf(EFORBIDDEN, "role: acting as %s, you cannot make anyone %s", actor, c.Role)
	}
	if c.Email != "" {
		u.Email = NormalizeEmail(c.Email)
	}
	if c.Role != "" {
		u.Role = c.Role
	}
	switch {
	case c.Active == nil:
	case *c.Active:
		u.DeactivatedAt = time.Time{}
	case u.DeactivatedAt.IsZero():
		u.DeactivatedAt = NormalTime(now)
		u.ResetHash, u.ResetExpiresAt = "", time.Time{}
	}
	return nil
}

// CheckManages returns EFORBIDDEN unless someone acting with role actor
// may manage u.
func CheckManages(actor string, u *User) error {
	if !ManagesRole(actor, u.Role) {
		return Errorf(EFORBIDDEN, "acting as %s, you cannot manage %s, who is %s", actor, u.Email, u.Role)
	}
	return nil
}

// NewPasswordReset gives u a fresh reset token that works once until
// now+PasswordResetTTL, replacing any earlier one. It returns the token,
// which is shown once and not stored. A deactivated user gets none.
func NewPasswordReset(u *User, now time.Time) (string, error) {
	if !u.Active() {
		return "", Errorf(ECONFLICT, "%s is deactivated: reactivate the user first", u.Email)
	}
	token := randomHex(32)
	u.ResetHash, u.ResetExpiresAt = HashSessionToken(token), NormalTime(now.Add(PasswordResetTTL))
	return token, nil
}

// PasswordResetPath is the console page where the holder of token sets a
// new password.
func PasswordResetPath(token string) string { return "/password/reset?token=" + token }

// UserEvents returns the events that record the change of a user from
// before to after by actor: one for each kind of change (user.updated for
// the email, user.role_changed with the roles before and after,
// user.deactivated or user.reactivated), in the user's tenant.
func UserEvents(actor Actor, c Context, before, after *User, now time.Time) []*Event {
	var out []*Event
	add := func(action string, meta []byte) {
		e := NewSystemEvent(after.Tenant, action, actor, c, now, after.Target())
		e.Metadata = meta
		out = append(out, e)
	}
	if before.Email != after.Email {
		add(ActionUserUpdated, metaJSON("email_before", before.Email, "email_after", after.Email))
	}
	if before.Role != after.Role {
		add(ActionUserRoleChanged, metaJSON("before", before.Role, "after", after.Role))
	}
	switch {
	case before.Active() && !after.Active():
		add(ActionUserDeactivated, nil)
	case !before.Active() && after.Active():
		add(ActionUserReactivated, nil)
	}
	return out
}

// UserEvent returns an event of action about u by actor, such as
// user.deleted or user.password_changed.
func UserEvent(action string, actor Actor, c Context, u *User, now time.Time) *Event {
	return NewSystemEvent(u.Tenant, action, actor, c, now, u.Target())
}

// Target returns u as the target of an event.
func (u *User) Target() Target { return Target{Type: "user", ID: u.ID, Name: u.Email} }

// metaJSON encodes string pairs as a JSON object.
func metaJSON(kv ...string) []byte {
	m := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	b, _ := json.Marshal(m) // strings always encode
	return b
}

// Recorder appends Trail's own events and returns once they are stored.
type Recorder func(ctx context.Context, events []*Event) error

// UpdateUserRecorded makes change to tenant's user id in us (see
// UserStore.UpdateUser), then records the events that events returns for
// the user before and after. A change that cannot be recorded is undone
// (the password aside), so that no change is missing from the log.
func UpdateUserRecorded(ctx context.Context, us UserStore, record Recorder, tenant, id string,
	change func(*User) error, events func(before, after *User) []*Event) (*User, error) {
	before, after, err := us.UpdateUser(ctx, tenant, id, change)
	if err != nil {
		return nil, err
	}
	if err := record(ctx, events(before, after)); err != nil {
		_, _, uerr := us.UpdateUser(context.WithoutCancel(ctx), tenant, id, func(u *User) error {
			u.Email, u.Role, u.DeactivatedAt = before.Email, before.Role, before.DeactivatedAt
			u.ResetHash, u.ResetExpiresAt = before.ResetHash, before.ResetExpiresAt
			u.MFASecret, u.MFARecovery = before.MFASecret, before.MFARecovery
			return nil
		})
		return nil, errors.Join(Errorf(EUNAVAILABLE, "could not record the change, so it was not made; try again"), err, uerr)
	}
	return after, nil
}

// DeleteUserRecorded deletes tenant's user id from us once check accepts
// it (see UserStore.DeleteUser), then records event(u). A deletion that
// cannot be recorded is undone: the user is stored again, without its
// sessions.
func DeleteUserRecorded(ctx context.Context, us UserStore, record Recorder, tenant, id string,
	check func(*User) error, event func(*User) *Event) (*User, error) {
	u, err := us.DeleteUser(ctx, tenant, id, check)
	if err != nil {
		return nil, err
	}
	if err := record(ctx, []*Event{event(u)}); err != nil {
		cerr := us.CreateUser(context.WithoutCancel(ctx), u)
		return nil, errors.Join(Errorf(EUNAVAILABLE, "could not record the deletion, so it was not made; try again"), err, cerr)
	}
	return u, nil
}
