package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/trailhq/trail"
)

var _ trail.UserStore = (*DB)(nil)

const (
	userColumns    = "id, tenant, email, role, password_hash, created_at"
	sessionColumns = "hash, id, user_id, tenant, csrf, created_at, last_seen_at, expires_at, revoked_at, ip, user_agent"
)

// CreateUser stores u; ECONFLICT when the tenant has a user with that email.
func (db *DB) CreateUser(ctx context.Context, u *trail.User) error {
	_, err := db.pool.Exec(ctx, "INSERT INTO users ("+userColumns+") VALUES ($1, $2, $3, $4, $5, $6)",
		u.ID, u.Tenant, u.Email, u.Role, u.PasswordHash, u.CreatedAt)
	switch {
	case isUniqueViolation(err):
		return trail.Errorf(trail.ECONFLICT, "%s already has a user with email %s", u.Tenant, u.Email)
	case err != nil:
		return fmt.Errorf("create user: %w", wrap(err))
	}
	return nil
}

// User returns the user with id in tenant, or ENOTFOUND.
func (db *DB) User(ctx context.Context, tenant, id string) (*trail.User, error) {
	return db.oneUser(ctx, "tenant = $1 AND id = $2", tenant, id)
}

// UserByEmail returns tenant's user with email, or ENOTFOUND.
func (db *DB) UserByEmail(ctx context.Context, tenant, email string) (*trail.User, error) {
	return db.oneUser(ctx, "tenant = $1 AND email = $2", tenant, email)
}

func (db *DB) oneUser(ctx context.Context, where string, args ...any) (*trail.User, error) {
	users, err := db.queryUsers(ctx, where, args...)
	switch {
	case err != nil:
		return nil, err
	case len(users) == 0:
		return nil, trail.Errorf(trail.ENOTFOUND, "user not found")
	}
	return users[0], nil
}

// Users lists tenant's users by email.
func (db *DB) Users(ctx context.Context, tenant string) ([]*trail.User, error) {
	return db.queryUsers(ctx, "tenant = $1 ORDER BY email", tenant)
}

func (db *DB) queryUsers(ctx context.Context, where string, args ...any) ([]*trail.User, error) {
	rows, err := db.pool.Query(ctx, "SELECT "+userColumns+" FROM users WHERE "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read users: %w", wrap(err))
	}
	defer rows.Close()
	users := []*trail.User{}
	for rows.Next() {
		var u trail.User
		if err := rows.Scan(&u.ID, &u.Tenant, &u.Email, &u.Role, &u.PasswordHash, &u.CreatedAt); err != nil {
			return nil, fmt.Errorf("read users: %w", wrap(err))
		}
		u.CreatedAt = u.CreatedAt.UTC()
		users = append(users, &u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read users: %w", wrap(err))
	}
	return users, nil
}

// CreateSession stores s.
func (db *DB) CreateSession(ctx context.Context, s *trail.Session) error {
	_, err := db.pool.Exec(ctx, "INSERT INTO sessions ("+sessionColumns+
		") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
		s.Hash, s.ID, s.UserID, s.Tenant, s.CSRF, s.CreatedAt, s.LastSeenAt, s.ExpiresAt,
		nullTime(s.RevokedAt), s.IP, s.UserAgent)
	switch {
	case isUniqueViolation(err):
		return trail.Errorf(trail.ECONFLICT, "session %s already exists", s.ID)
	case err != nil:
		return fmt.Errorf("create session: %w", wrap(err))
	}
	return nil
}

// Session returns the session whose token hashes to hash, or ENOTFOUND.
func (db *DB) Session(ctx context.Context, hash string) (*trail.Session, error) {
	sessions, err := db.querySessions(ctx, "hash = $1", hash)
	switch {
	case err != nil:
		return nil, err
	case len(sessions) == 0:
		return nil, trail.Errorf(trail.ENOTFOUND, "session not found")
	}
	return sessions[0], nil
}

// TouchSession sets the session's LastSeenAt to t.
func (db *DB) TouchSession(ctx context.Context, hash string, t time.Time) error {
	_, err := db.pool.Exec(ctx, "UPDATE sessions SET last_seen_at = greatest(last_seen_at, $1) WHERE hash = $2", t, hash)
	if err != nil {
		return fmt.Errorf("touch session: %w", wrap(err))
	}
	return nil
}

// Sessions lists tenant's sessions that are not revoked and not past
// ExpiresAt at now, newest first.
func (db *DB) Sessions(ctx context.Context, tenant string, now time.Time) ([]*trail.Session, error) {
	return db.querySessions(ctx, "tenant = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at DESC, id DESC",
		tenant, now)
}

// RevokeSession marks the session with public id revoked at t; ENOTFOUND
// when it does not exist in tenant or is revoked already.
func (db *DB) RevokeSession(ctx context.Context, tenant, id string, t time.Time) error {
	tag, err := db.pool.Exec(ctx, "UPDATE sessions SET revoked_at = $1 WHERE tenant = $2 AND id = $3 AND revoked_at IS NULL",
		t, tenant, id)
	if err != nil {
		return fmt.Errorf("revoke session: %w", wrap(err))
	}
	if tag.RowsAffected() == 0 {
		return trail.Errorf(trail.ENOTFOUND, "no active session %s in %s", id, tenant)
	}
	return nil
}

// PruneSessions deletes sessions that expired, were revoked or were last
// used before t.
func (db *DB) PruneSessions(ctx context.Context, before time.Time) (int64, error) {
	tag, err := db.pool.Exec(ctx, "DELETE FROM sessions WHERE expires_at < $1 OR revoked_at < $1 OR last_seen_at < $1", before)
	if err != nil {
		return 0, fmt.Errorf("prune sessions: %w", wrap(err))
	}
	return tag.RowsAffected(), nil
}

func (db *DB) querySessions(ctx context.Context, where string, args ...any) ([]*trail.Session, error) {
	rows, err := db.pool.Query(ctx, "SELECT "+sessionColumns+" FROM sessions WHERE "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read sessions: %w", wrap(err))
	}
	defer rows.Close()
	sessions := []*trail.Session{}
	for rows.Next() {
		var s trail.Session
		var revoked *time.Time
		err := rows.Scan(&s.Hash, &s.ID, &s.UserID, &s.Tenant, &s.CSRF, &s.CreatedAt, &s.LastSeenAt, &s.ExpiresAt,
			&revoked, &s.IP, &s.UserAgent)
		if err != nil {
			return nil, fmt.Errorf("read sessions: %w", wrap(err))
		}
		s.CreatedAt, s.LastSeenAt, s.ExpiresAt = s.CreatedAt.UTC(), s.LastSeenAt.UTC(), s.ExpiresAt.UTC()
		if revoked != nil {
			s.RevokedAt = revoked.UTC()
		}
		sessions = append(sessions, &s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read sessions: %w", wrap(err))
	}
	return sessions, nil
}
