package tables

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/secretbox"
)

// MFASecretContext binds the sealed TOTP secret of user id to its row.
func MFASecretContext(id string) string { return "users.mfa_secret:" + id }

// mfaColumns are the column values of u's TOTP secret, sealed with the
// secrets key, and recovery code hashes; NULL for a user without MFA.
func (t *Tables) mfaColumns(u *trail.User) (secret, recovery any, err error) {
	if u.MFASecret == "" {
		return nil, nil, nil
	}
	sealed, err := secretbox.Seal(t.secrets, []byte(u.MFASecret), MFASecretContext(u.ID))
	if err != nil {
		return nil, nil, err
	}
	codes, err := json.Marshal(append([]string{}, u.MFARecovery...))
	if err != nil {
		return nil, nil, err
	}
	return string(sealed), string(codes), nil
}

// openMFA sets u's TOTP secret and recovery codes from their columns.
func (t *Tables) openMFA(u *trail.User, secret, recovery sql.NullString) error {
	if !secret.Valid {
		return nil
	}
	plain, err := secretbox.Open(t.secrets, []byte(secret.String), MFASecretContext(u.ID))
	if err != nil {
		return fmt.Errorf("mfa secret of %s: %w", u.ID, err)
	}
	u.MFASecret = string(plain)
	if recovery.Valid {
		if err := json.Unmarshal([]byte(recovery.String), &u.MFARecovery); err != nil {
			return fmt.Errorf("recovery codes of %s: %w", u.ID, err)
		}
	}
	return nil
}

var _ trail.MFAStore = (*Tables)(nil)

const mfaLoginColumns = "hash, tenant, user_id, next, enroll, expires_at"

// CreateMFALogin stores l, deleting pending logins that expired before now.
func (t *Tables) CreateMFALogin(ctx context.Context, l *trail.MFALogin, now time.Time) error {
	if _, err := t.exec(ctx, "DELETE FROM mfa_logins WHERE expires_at < ?", t.d.Time(now)); err != nil {
		return fmt.Errorf("prune mfa logins: %w", err)
	}
	_, err := t.exec(ctx, "INSERT INTO mfa_logins ("+mfaLoginColumns+") VALUES (?, ?, ?, ?, ?, ?)",
		l.Hash, l.Tenant, l.UserID, l.Next, l.Enroll, t.d.Time(l.ExpiresAt))
	switch {
	case t.d.IsUnique(err):
		return trail.Errorf(trail.ECONFLICT, "pending sign-in exists")
	case err != nil:
		return fmt.Errorf("create mfa login: %w", err)
	}
	return nil
}

// MFALogin returns the pending login whose token hashes to hash; ENOTFOUND
// when there is none or it expired at now.
func (t *Tables) MFALogin(ctx context.Context, hash string, now time.Time) (*trail.MFALogin, error) {
	ls, err := queryOn(t, t.w, ctx, scanMFALogin, "SELECT "+mfaLoginColumns+" FROM mfa_logins WHERE hash = ?", hash)
	switch {
	case err != nil:
		return nil, fmt.Errorf("read mfa login: %w", err)
	case len(ls) == 0 || !now.Before(ls[0].ExpiresAt):
		return nil, trail.Errorf(trail.ENOTFOUND, "no pending sign-in: sign in again")
	}
	return ls[0], nil
}

// DeleteMFALogin deletes the pending login whose token hashes to hash;
// ENOTFOUND when it is gone already.
func (t *Tables) DeleteMFALogin(ctx context.Context, hash string) error {
	n, err := t.exec(ctx, "DELETE FROM mfa_logins WHERE hash = ?", hash)
	switch {
	case err != nil:
		return fmt.Errorf("delete mfa login: %w", err)
	case n == 0:
		return trail.Errorf(trail.ENOTFOUND, "no pending sign-in: sign in again")
	}
	return nil
}

func scanMFALogin(rows *sql.Rows, l *trail.MFALogin) error {
	return rows.Scan(&l.Hash, &l.Tenant, &l.UserID, &l.Next, &l.Enroll, ScanTime(&l.ExpiresAt))
}

// MFARequired reports whether tenant requires multi-factor sign-in.
func (t *Tables) MFARequired(ctx context.Context, tenant string) (bool, error) {
	var n int
	err := t.r.QueryRowContext(ctx, t.d.Rebind("SELECT COUNT(*) FROM mfa_required WHERE tenant = ?"), tenant).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("read mfa required: %w", t.d.Wrap(err))
	}
	return n > 0, nil
}

// SetMFARequired sets whether tenant requires multi-factor sign-in and
// reports whether that changed it.
func (t *Tables) SetMFARequired(ctx context.Context, tenant string, required bool, now time.Time) (bool, error) {
	q, args := "DELETE FROM mfa_required WHERE tenant = ?", []any{tenant}
	if required {
		q, args = "INSERT INTO mfa_required (tenant, updated_at) VALUES (?, ?) ON CONFLICT (tenant) DO NOTHING",
			[]any{tenant, t.d.Time(now)}
	}
	n, err := t.exec(ctx, q, args...)
	if err != nil {
		return false, fmt.Errorf("set mfa required: %w", err)
	}
	return n > 0, nil
}
