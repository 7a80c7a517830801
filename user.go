package trail

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/mail"
	"slices"
	"strings"
	"time"
)

// Console user roles. Owners and admins read the audit log and manage
// settings; members may sign in but see neither.
const (
	RoleOwner  = "owner"
	RoleAdmin  = "admin"
	RoleMember = "member"
)

// Roles lists every role, most powerful first.
var Roles = []string{RoleOwner, RoleAdmin, RoleMember}

// Actions that the console records about sign-ins and its own use.
const (
	ActionLoginSuccess     = "login.success"
	ActionLoginFailure     = "login.failure"
	ActionLogout           = "logout"
	ActionSessionRevoked   = "session.revoked"
	ActionExportDownloaded = "export.downloaded"
	ActionUserCreated      = "user.created"
)

// Actions that record changes to users, with the user as the target (type
// "user") and whoever made the change as the actor.
const (
	ActionUserUpdated         = "user.updated"      // the email changed
	ActionUserRoleChanged     = "user.role_changed" // metadata: before, after
	ActionUserDeactivated     = "user.deactivated"
	ActionUserReactivated     = "user.reactivated"
	ActionUserDeleted         = "user.deleted"
	ActionUserPasswordReset   = "user.password_reset"   // a reset link was issued, or used
	ActionUserPasswordChanged = "user.password_changed" // by the user, with the current password
)

// maxEmailLen is the longest address RFC 5321 allows in a path.
const maxEmailLen = 254

// User is a person who signs in to the web console. A user belongs to one
// tenant and sees only that tenant's events and system events.
type User struct {
	ID     string `json:"id"`
	Tenant string `json:"tenant"`
	// Email is stored lower-cased; it is unique within the tenant.
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	// DeactivatedAt is zero for an active user. A deactivated user cannot
	// sign in by any means and has no live sessions.
	DeactivatedAt time.Time `json:"deactivated_at,omitzero"`
	// PasswordHash is an encoded password hash (argon2id, PHC format). The
	// console hashes and checks passwords; stores keep the string.
	PasswordHash string `json:"-"`
	// ResetHash is the SHA-256 of the one outstanding password reset
	// token, "" when there is none; the token expires at ResetExpiresAt.
	ResetHash      string    `json:"-"`
	ResetExpiresAt time.Time `json:"-"`
	// MFASecret is the base32 TOTP secret of a user who set up
	// multi-factor sign-in, "" otherwise. Stores keep it sealed with the
	// secrets key.
	MFASecret string `json:"-"`
	// MFARecovery holds the SHA-256 hashes of the unused recovery codes.
	MFARecovery []string `json:"-"`
	// MFALastStep is the TOTP time step of the last code accepted, so that
	// a code works once.
	MFALastStep int64 `json:"-"`
}

// NewUser validates a user's fields and returns the user with a fresh id.
// passwordHash is the already hashed password.
func NewUser(tenant, email, role, passwordHash string, now time.Time) (*User, error) {
	var p Problems
	if !ValidTenant(tenant) && tenant != OperatorTenant {
		p.Add(-1, "tenant", "required: 1 to 64 letters, digits, '.', '_' or '-'")
	}
	email = NormalizeEmail(email)
	if !ValidEmail(email) {
		p.Add(-1, "email", "must be an email address like a@example.com")
	}
	if !slices.Contains(Roles, role) {
		p.Add(-1, "role", "must be owner, admin or member")
	}
	if passwordHash == "" {
		p.Add(-1, "password", "required")
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	return &User{
		ID: "u_" + randomHex(10), Tenant: tenant, Email: email, Role: role,
		CreatedAt: NormalTime(now), PasswordHash: passwordHash,
	}, nil
}

// NormalizeEmail trims and lower-cases an address, so that sign-in does not
// depend on how the user typed it.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidEmail reports whether s is a plain address (no display name) of at
// most 254 characters.
func ValidEmail(s string) bool {
	if s == "" || len(s) > maxEmailLen || !printable(s) {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == "" && strings.Contains(s, "@")
}

// Active reports whether u may sign in: it is not deactivated. Every way of
// signing in (password, reset link, SSO) checks it.
func (u *User) Active() bool { return u.DeactivatedAt.IsZero() }

// MFA reports whether u signs in with a second factor (TOTP).
func (u *User) MFA() bool { return u.MFASecret != "" }

// CanReadAudit reports whether u may read the audit log and export it.
func (u *User) CanReadAudit() bool { return u.Active() && (u.Role == RoleOwner || u.Role == RoleAdmin) }

// CanManage reports whether u may manage settings: API keys, sessions and
// forwarders.
func (u *User) CanManage() bool { return u.CanReadAudit() }

// Actor returns the actor recorded when u performs a sensitive action.
func (u *User) Actor() Actor { return Actor{Type: ActorUser, ID: u.ID, Name: u.Email} }

// Scope returns what u may read: its tenant and system events; for a
// platform user, the operator log and system events.
func (u *User) Scope() Scope { return Scope{Tenant: u.Tenant} }

// Platform reports whether u is a platform (operator) console user: one of
// the operator log's tenant rather than an organization's. Such a user may
// open any tenant's log read-only, and each view is recorded there.
func (u *User) Platform() bool { return u.Tenant == OperatorTenant }

// Session is a signed-in browser. The browser holds a random 256-bit token;
// the store keeps only its SHA-256 hash, so a leaked database does not leak
// live sessions.
type Session struct {
	// ID is a public handle for listing and revoking the session; it is not
	// a credential.
	ID     string `json:"id"`
	Hash   string `json:"-"`
	UserID string `json:"user_id"`
	Tenant string `json:"tenant"`
	// CSRF is the token that every form of this session must send back.
	CSRF       string    `json:"-"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	// ExpiresAt is the absolute end of the session, however active.
	ExpiresAt time.Time `json:"expires_at"`
	// RevokedAt is zero until the session ends by logout or revocation.
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	IP        string    `json:"ip,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
}

// NewSession starts a session for u that lasts at most maxAge. It returns
// the session and the token for the browser's cookie, which is not stored.
func NewSession(u *User, ctx Context, maxAge time.Duration, now time.Time) (*Session, string) {
	now = NormalTime(now)
	token := randomHex(32)
	return &Session{
		ID: "s_" + randomHex(10), Hash: HashSessionToken(token), UserID: u.ID, Tenant: u.Tenant,
		CSRF: randomHex(32), CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(maxAge),
		IP: ctx.IP, UserAgent: ctx.UserAgent,
	}, token
}

// HashSessionToken returns the stored form of a session token: hex SHA-256,
// which is safe for 256 random bits.
func HashSessionToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// Active reports whether s may be used at now: not revoked, not past its
// absolute expiry, and used within idle.
func (s *Session) Active(now time.Time, idle time.Duration) bool {
	return s.RevokedAt.IsZero() && now.Before(s.ExpiresAt) && now.Before(s.LastSeenAt.Add(idle))
}

// UserStore stores console users and their sessions.
type UserStore interface {
	// CreateUser stores u; ECONFLICT when the tenant has a user with that
	// email already.
	CreateUser(ctx context.Context, u *User) error
	// User returns the user with id in tenant, or ENOTFOUND.
	User(ctx context.Context, tenant, id string) (*User, error)
	// UserByEmail returns the user of tenant with email, or ENOTFOUND.
	UserByEmail(ctx context.Context, tenant, email string) (*User, error)
	// Users lists tenant's users by email.
	Users(ctx context.Context, tenant string) ([]*User, error)
	// UpdateUser changes tenant's user id in one transaction: it reads
	// the user, calls change with a copy to edit (an error from change
	// ends the update), and stores the copy's email, role, password,
	// deactivation and reset token. Deactivating a user revokes its
	// sessions in the same transaction. A change that would leave the
	// tenant without an active owner fails with ECONFLICT, also when two
	// changes race. It returns the user before and after; ENOTFOUND when
	// there is no such user, ECONFLICT when the new email is taken.
	UpdateUser(ctx context.Context, tenant, id string, change func(u *User) error) (before, after *User, err error)
	// DeleteUser deletes tenant's user id and its sessions after check
	// accepts the user (an error from check ends the deletion). Deleting
	// the tenant's last active owner fails with ECONFLICT, as in
	// UpdateUser. Events keep the user's id and email as they were.
	DeleteUser(ctx context.Context, tenant, id string, check func(u *User) error) (*User, error)
	// UsePasswordReset sets the password of the active user whose reset
	// token hashes to hash, if the token has not expired at now, clears
	// the token (it works once) and revokes the user's sessions. It
	// returns the user, or ENOTFOUND.
	UsePasswordReset(ctx context.Context, hash, passwordHash string, now time.Time) (*User, error)

	// CreateSession stores s.
	CreateSession(ctx context.Context, s *Session) error
	// Session returns the session whose token hashes to hash, or
	// ENOTFOUND. It returns revoked and expired sessions too.
	Session(ctx context.Context, hash string) (*Session, error)
	// TouchSession sets the session's LastSeenAt to t.
	TouchSession(ctx context.Context, hash string, t time.Time) error
	// Sessions lists tenant's sessions that are not revoked and not past
	// ExpiresAt at now, newest first.
	Sessions(ctx context.Context, tenant string, now time.Time) ([]*Session, error)
	// UserSessions lists the sessions of tenant's user id that are not
	// revoked and not past ExpiresAt at now, newest first.
	UserSessions(ctx context.Context, tenant, id string, now time.Time) ([]*Session, error)
	// RevokeSession marks the session with public id revoked at t;
	// ENOTFOUND when it does not exist in tenant or is revoked already.
	RevokeSession(ctx context.Context, tenant, id string, t time.Time) error
	// PruneSessions deletes sessions that expired, were revoked or were
	// last used before t.
	PruneSessions(ctx context.Context, before time.Time) (int64, error)
}
