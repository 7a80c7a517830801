package tables

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/trailhq/trail"
)

var _ trail.UserStore = (*Tables)(nil)

const (
	userColumns = "id, tenant, email, role, password_hash, created_at, deactivated_at, reset_hash, reset_expires_at," +
		" mfa_secret, mfa_recovery, mfa_last_step"
	sessionColumns = "hash, id, user_id, tenant, csrf, created_at, last_seen_at, expires_at, revoked_at, ip, user_agent"
)

// CreateUser stores u; ECONFLICT when the tenant has a user with that email.
func (t *Tables) CreateUser(ctx context.Context, u *trail.User) error {
	secret, recovery, err := t.mfaColumns(u)
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	_, err = t.exec(ctx, "INSERT INTO users ("+userColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		u.ID, u.Tenant, u.Email, u.Role, u.PasswordHash, t.d.Time(u.CreatedAt), t.nullTime(u.DeactivatedAt),
		nullString(u.ResetHash), t.nullTime(u.ResetExpiresAt), secret, recovery, u.MFALastStep)
	switch {
	case t.d.IsUnique(err):
		return trail.Errorf(trail.ECONFLICT, "%s already has a user with email %s", u.Tenant, u.Email)
	case err != nil:
		return fmt.Errorf("create user: %w", err)
	}
	return nil
}

// User returns the user with id in tenant, or ENOTFOUND.
func (t *Tables) User(ctx context.Context, tenant, id string) (*trail.User, error) {
	return t.oneUser(ctx, "tenant = ? AND id = ?", tenant, id)
}

// UserByEmail returns tenant's user with email, or ENOTFOUND.
func (t *Tables) UserByEmail(ctx context.Context, tenant, email string) (*trail.User, error) {
	return t.oneUser(ctx, "tenant = ? AND email = ?", tenant, email)
}

func (t *Tables) oneUser(ctx context.Context, where string, args ...any) (*trail.User, error) {
	users, err := t.queryUsers(ctx, where, args...)
	switch {
	case err != nil:
		return nil, err
	case len(users) == 0:
		return nil, trail.Errorf(trail.ENOTFOUND, "user not found")
	}
	return users[0], nil
}

// Users lists tenant's users by email.
func (t *Tables) Users(ctx context.Context, tenant string) ([]*trail.User, error) {
	return t.queryUsers(ctx, "tenant = ? ORDER BY email", tenant)
}

func (t *Tables) queryUsers(ctx context.Context, where string, args ...any) ([]*trail.User, error) {
	users, err := query(t, ctx, t.scanUser, "SELECT "+userColumns+" FROM users WHERE "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	return users, nil
}

func (t *Tables) scanUser(rows *sql.Rows, u *trail.User) error {
	var reset, secret, recovery sql.NullString
	err := rows.Scan(&u.ID, &u.Tenant, &u.Email, &u.Role, &u.PasswordHash, ScanTime(&u.CreatedAt),
		ScanTime(&u.DeactivatedAt), &reset, ScanTime(&u.ResetExpiresAt), &secret, &recovery, &u.MFALastStep)
	if err != nil {
		return err
	}
	u.ResetHash = reset.String
	return t.openMFA(u, secret, recovery)
}

// CreateSession stores s.
func (t *Tables) CreateSession(ctx context.Context, s *trail.Session) error {
	_, err := t.exec(ctx, "INSERT INTO sessions ("+sessionColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		s.Hash, s.ID, s.UserID, s.Tenant, s.CSRF, t.d.Time(s.CreatedAt), t.d.Time(s.LastSeenAt),
		t.d.Time(s.ExpiresAt), t.nullTime(s.RevokedAt), s.IP, s.UserAgent)
	switch {
	case t.d.IsUnique(err):
		return trail.Errorf(trail.ECONFLICT, "session %s already exists", s.ID)
	case err != nil:
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// Session returns the session whose token hashes to hash, or ENOTFOUND.
func (t *Tables) Session(ctx context.Context, hash string) (*trail.Session, error) {
	sessions, err := t.querySessions(ctx, "hash = ?", hash)
	switch {
	case err != nil:
		return nil, err
	case len(sessions) == 0:
		return nil, trail.Errorf(trail.ENOTFOUND, "session not found")
	}
	return sessions[0], nil
}

// TouchSession sets the session's LastSeenAt to at, unless it is later.
func (t *Tables) TouchSession(ctx context.Context, hash string, at time.Time) error {
	v := t.d.Time(at)
	_, err := t.exec(ctx, "UPDATE sessions SET last_seen_at = CASE WHEN last_seen_at < ? THEN ? ELSE last_seen_at END"+
		" WHERE hash = ?", v, v, hash)
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// UserSessions lists the live sessions of tenant's user id at now, newest
// first.
func (t *Tables) UserSessions(ctx context.Context, tenant, id string, now time.Time) ([]*trail.Session, error) {
	return t.querySessions(ctx, "tenant = ? AND user_id = ? AND revoked_at IS NULL AND expires_at > ?"+
		" ORDER BY created_at DESC, id DESC", tenant, id, t.d.Time(now))
}

// Sessions lists tenant's sessions that are not revoked and not past
// ExpiresAt at now, newest first.
func (t *Tables) Sessions(ctx context.Context, tenant string, now time.Time) ([]*trail.Session, error) {
	return t.querySessions(ctx, "tenant = ? AND revoked_at IS NULL AND expires_at > ? ORDER BY created_at DESC, id DESC",
		tenant, t.d.Time(now))
}

// RevokeSession marks the session with public id revoked at at; ENOTFOUND
// when it does not exist in tenant or is revoked already.
func (t *Tables) RevokeSession(ctx context.Context, tenant, id string, at time.Time) error {
	n, err := t.exec(ctx, "UPDATE sessions SET revoked_at = ? WHERE tenant = ? AND id = ? AND revoked_at IS NULL",
		t.d.Time(at), tenant, id)
	if err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	if n == 0 {
		return trail.Errorf(trail.ENOTFOUND, "no active session %s in %s", id, tenant)
	}
	return nil
}

// PruneSessions deletes sessions that expired, were revoked or were last
// used before t.
func (t *Tables) PruneSessions(ctx context.Context, before time.Time) (int64, error) {
	b := t.d.Time(before)
	n, err := t.exec(ctx, "DELETE FROM sessions WHERE expires_at < ? OR revoked_at < ? OR last_seen_at < ?", b, b, b)
	if err != nil {
		return 0, fmt.Errorf("prune sessions: %w", err)
	}
	return n, nil
}

func (t *Tables) querySessions(ctx context.Context, where string, args ...any) ([]*trail.Session, error) {
	sessions, err := query(t, ctx, scanSession, "SELECT "+sessionColumns+" FROM sessions WHERE "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read sessions: %w", err)
	}
	return sessions, nil
}

func scanSession(rows *sql.Rows, s *trail.Session) error {
	return rows.Scan(&s.Hash, &s.ID, &s.UserID, &s.Tenant, &s.CSRF, ScanTime(&s.CreatedAt), ScanTime(&s.LastSeenAt),
		ScanTime(&s.ExpiresAt), ScanTime(&s.RevokedAt), &s.IP, &s.UserAgent)
}
