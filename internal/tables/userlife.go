package tables

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/trailhq/trail"
)

// The lifecycle of users: changes and deletions that keep every tenant
// with an active owner, and one-time password resets.

// UpdateUser changes tenant's user id with change in one transaction; see
// trail.UserStore.
func (t *Tables) UpdateUser(ctx context.Context, tenant, id string, change func(u *trail.User) error) (before, after *trail.User, err error) {
	err = t.userTx(ctx, tenant, id, func(tx *sql.Tx, u *trail.User) error {
		before, after = u, new(trail.User)
		*after = *u
		if err := change(after); err != nil {
			return err
		}
		after.ID, after.Tenant, after.CreatedAt = u.ID, u.Tenant, u.CreatedAt
		if err := t.keepOwner(ctx, tx, before, after); err != nil {
			return err
		}
		return t.writeUser(ctx, tx, before, after)
	})
	if err != nil {
		return nil, nil, err
	}
	return before, after, nil
}

// DeleteUser deletes tenant's user id and its sessions once check accepts
// it; see trail.UserStore.
func (t *Tables) DeleteUser(ctx context.Context, tenant, id string, check func(u *trail.User) error) (*trail.User, error) {
	var deleted *trail.User
	err := t.userTx(ctx, tenant, id, func(tx *sql.Tx, u *trail.User) error {
		if err := check(u); err != nil {
			return err
		}
		if err := t.keepOwner(ctx, tx, u, nil); err != nil {
			return err
		}
		for _, q := range []string{"DELETE FROM sessions WHERE user_id = ?", "DELETE FROM mfa_logins WHERE user_id = ?",
			"DELETE FROM users WHERE id = ?"} {
			if _, err := tx.ExecContext(ctx, t.d.Rebind(q), u.ID); err != nil {
				return fmt.Errorf("delete user: %w", err)
			}
		}
		deleted = u
		return nil
	})
	return deleted, err
}

// userTx runs f in a transaction with tenant's user id as stored, holding
// the lock on tenant's users that every change of them takes, so that
// the last-owner check of one change sees every change before it.
func (t *Tables) userTx(ctx context.Context, tenant, id string, f func(*sql.Tx, *trail.User) error) error {
	return t.inTx(ctx, func(tx *sql.Tx) error {
		if l := t.d.Lock("trail.users." + tenant); l.SQL != "" {
			if _, err := tx.ExecContext(ctx, t.d.Rebind(l.SQL), l.Args...); err != nil {
				return fmt.Errorf("lock users of %s: %w", tenant, err)
			}
		}
		users, err := txQuery(t, tx, ctx, t.scanUser, "SELECT "+userColumns+" FROM users WHERE tenant = ? AND id = ?", tenant, id)
		switch {
		case err != nil:
			return fmt.Errorf("read user: %w", err)
		case len(users) == 0:
			return trail.Errorf(trail.ENOTFOUND, "user %s not found in %s", id, tenant)
		}
		return f(tx, users[0])
	})
}

// activeOwner reports whether u is an owner who may sign in; nil (a
// deleted user) is not.
func activeOwner(u *trail.User) bool { return u != nil && u.Role == trail.RoleOwner && u.Active() }

// keepOwner refuses a change from before to after (nil: deletion) that
// takes the tenant's last active owner away.
func (t *Tables) keepOwner(ctx context.Context, tx *sql.Tx, before, after *trail.User) error {
	if !activeOwner(before) || activeOwner(after) {
		return nil
	}
	var others int
	err := tx.QueryRowContext(ctx, t.d.Rebind("SELECT COUNT(*) FROM users WHERE tenant = ? AND id <> ?"+
		" AND role = ? AND deactivated_at IS NULL"), before.Tenant, before.ID, trail.RoleOwner).Scan(&others)
	if err != nil {
		return fmt.Errorf("count owners: %w", err)
	}
	if others == 0 {
		return trail.Errorf(trail.ECONFLICT, "%s is the last owner of %s and cannot be demoted, deactivated or deleted;"+
			" make another user owner first", before.Email, before.Tenant)
	}
	return nil
}

// writeUser stores after and, when the change deactivates the user,
// revokes its sessions.
func (t *Tables) writeUser(ctx context.Context, tx *sql.Tx, before, after *trail.User) error {
	secret, recovery, err := t.mfaColumns(after)
	if err != nil {
		return fmt.Errorf("update user: %w", err)
	}
	_, err = tx.ExecContext(ctx, t.d.Rebind("UPDATE users SET email = ?, role = ?, password_hash = ?,"+
		" deactivated_at = ?, reset_hash = ?, reset_expires_at = ?, mfa_secret = ?, mfa_recovery = ?,"+
		" mfa_last_step = ? WHERE id = ?"),
		after.Email, after.Role, after.PasswordHash, t.nullTime(after.DeactivatedAt), nullString(after.ResetHash),
		t.nullTime(after.ResetExpiresAt), secret, recovery, after.MFALastStep, after.ID)
	switch {
	case t.d.IsUnique(err):
		return trail.Errorf(trail.ECONFLICT, "%s already has a user with email %s", after.Tenant, after.Email)
	case err != nil:
		return fmt.Errorf("update user: %w", err)
	case before.Active() && !after.Active():
		return t.revokeUserSessions(ctx, tx, after.ID, after.DeactivatedAt)
	}
	return nil
}

func (t *Tables) revokeUserSessions(ctx context.Context, tx *sql.Tx, userID string, at time.Time) error {
	_, err := tx.ExecContext(ctx, t.d.Rebind("UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL"),
		t.d.Time(at), userID)
	if err != nil {
		return fmt.Errorf("revoke sessions of %s: %w", userID, err)
	}
	return nil
}

// UsePasswordReset sets the password of the active user whose unexpired
// reset token hashes to hash, clears the token and revokes the user's
// sessions; see trail.UserStore.
func (t *Tables) UsePasswordReset(ctx context.Context, hash, passwordHash string, now time.Time) (*trail.User, error) {
	var used *trail.User
	err := t.inTx(ctx, func(tx *sql.Tx) error {
		users, err := txQuery(t, tx, ctx, t.scanUser, "SELECT "+userColumns+" FROM users WHERE reset_hash = ?"+
			" AND reset_expires_at > ? AND deactivated_at IS NULL", hash, t.d.Time(now))
		switch {
		case err != nil:
			return fmt.Errorf("read password reset: %w", err)
		case len(users) == 0:
			return trail.Errorf(trail.ENOTFOUND, "this password reset link is unknown, used or expired; ask an admin for a new one")
		}
		// The WHERE repeats the hash, so two racing uses cannot both win.
		res, err := tx.ExecContext(ctx, t.d.Rebind("UPDATE users SET password_hash = ?, reset_hash = NULL,"+
			" reset_expires_at = NULL WHERE id = ? AND reset_hash = ?"), passwordHash, users[0].ID, hash)
		if err != nil {
			return fmt.Errorf("use password reset: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return trail.Errorf(trail.ENOTFOUND, "this password reset link was used already")
		}
		used = users[0]
		used.PasswordHash, used.ResetHash, used.ResetExpiresAt = passwordHash, "", time.Time{}
		return t.revokeUserSessions(ctx, tx, used.ID, now)
	})
	return used, err
}

// txQuery runs q (with ? placeholders) in tx and scans its rows.
func txQuery[T any](t *Tables, tx *sql.Tx, ctx context.Context, scan func(*sql.Rows, *T) error, q string, args ...any) ([]*T, error) {
	rows, err := tx.QueryContext(ctx, t.d.Rebind(q), args...)
	if err != nil {
		return nil, err
	}
	return scanAll(rows, scan)
}

// nullString is the column value of s, NULL for "" (so that unique
// indexes ignore it).
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
