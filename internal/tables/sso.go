package tables

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/secretbox"
)

var _ trail.SSOStore = (*Tables)(nil)

const ssoColumns = "id, tenant, settings, client_secret, created_at, updated_at"

// SSOSecretContext binds the sealed client secret of SSO provider id to its
// row.
func SSOSecretContext(id string) string { return "sso_providers:" + id }

// SSOProvider returns tenant's provider with its secret, or ENOTFOUND.
func (t *Tables) SSOProvider(ctx context.Context, tenant string) (*trail.SSOProvider, error) {
	ps, err := query(t, ctx, t.scanSSO, "SELECT "+ssoColumns+" FROM sso_providers WHERE tenant = ?", tenant)
	switch {
	case err != nil:
		return nil, fmt.Errorf("read sso provider: %w", err)
	case len(ps) == 0:
		return nil, trail.Errorf(trail.ENOTFOUND, "%s has no single sign-on provider", tenant)
	}
	return ps[0], nil
}

// SSOProvidersForDomain lists the providers that allow domain, by tenant.
func (t *Tables) SSOProvidersForDomain(ctx context.Context, domain string) ([]*trail.SSOProvider, error) {
	ps, err := query(t, ctx, t.scanSSO, "SELECT "+ssoColumns+" FROM sso_providers WHERE tenant IN "+
		"(SELECT tenant FROM sso_domains WHERE domain = ?) ORDER BY tenant", domain)
	if err != nil {
		return nil, fmt.Errorf("find sso providers: %w", err)
	}
	return ps, nil
}

func (t *Tables) scanSSO(rows *sql.Rows, p *trail.SSOProvider) error {
	var id, settings, secret string
	var created, updated time.Time
	if err := rows.Scan(&id, &p.Tenant, &settings, &secret, ScanTime(&created), ScanTime(&updated)); err != nil {
		return err
	}
	tenant := p.Tenant
	if err := json.Unmarshal([]byte(settings), p); err != nil {
		return fmt.Errorf("sso provider of %s: %w", tenant, err)
	}
	plain, err := secretbox.Open(t.secrets, []byte(secret), SSOSecretContext(id))
	if err != nil {
		return fmt.Errorf("sso provider of %s: %w", tenant, err)
	}
	p.Tenant, p.ClientSecret, p.CreatedAt, p.UpdatedAt = tenant, string(plain), created, updated
	p.ManagedBy = trail.ManagedByAPI
	return nil
}

// SetSSOProvider stores p, replacing the tenant's provider, and reports
// whether it is new.
func (t *Tables) SetSSOProvider(ctx context.Context, p *trail.SSOProvider) (bool, error) {
	settings, err := json.Marshal(p.Redacted())
	if err != nil {
		return false, fmt.Errorf("set sso provider: %w", err)
	}
	var created bool
	err = t.inTx(ctx, func(tx *sql.Tx) error {
		var id string
		err := tx.QueryRowContext(ctx, t.d.Rebind("SELECT id, created_at FROM sso_providers WHERE tenant = ?"),
			p.Tenant).Scan(&id, ScanTime(&p.CreatedAt))
		if created = errors.Is(err, sql.ErrNoRows); created {
			id, p.CreatedAt, err = newSSOID(), p.UpdatedAt, nil
		}
		if err != nil {
			return err
		}
		secret, err := secretbox.Seal(t.secrets, []byte(p.ClientSecret), SSOSecretContext(id))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, t.d.Rebind("DELETE FROM sso_providers WHERE tenant = ?"), p.Tenant); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, t.d.Rebind("INSERT INTO sso_providers ("+ssoColumns+") VALUES (?, ?, ?, ?, ?, ?)"),
			id, p.Tenant, string(settings), string(secret), t.d.Time(p.CreatedAt), t.d.Time(p.UpdatedAt)); err != nil {
			return err
		}
		return t.setSSODomains(ctx, tx, p.Tenant, p.Domains)
	})
	switch {
	case t.d.IsUnique(err):
		return false, trail.Errorf(trail.ECONFLICT, "the single sign-on provider of %s changed meanwhile; try again", p.Tenant)
	case err != nil:
		return false, fmt.Errorf("set sso provider: %w", err)
	}
	return created, nil
}

func (t *Tables) setSSODomains(ctx context.Context, tx *sql.Tx, tenant string, domains []string) error {
	if _, err := tx.ExecContext(ctx, t.d.Rebind("DELETE FROM sso_domains WHERE tenant = ?"), tenant); err != nil {
		return err
	}
	for _, d := range domains {
		if _, err := tx.ExecContext(ctx, t.d.Rebind("INSERT INTO sso_domains (domain, tenant) VALUES (?, ?)"), d, tenant); err != nil {
			return err
		}
	}
	return nil
}

func newSSOID() string {
	b := make([]byte, 10)
	rand.Read(b)
	return "sso_" + hex.EncodeToString(b)
}

// DeleteSSOProvider deletes tenant's provider and its domains; ENOTFOUND if
// it has none.
func (t *Tables) DeleteSSOProvider(ctx context.Context, tenant string) error {
	var n int64
	err := t.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, t.d.Rebind("DELETE FROM sso_providers WHERE tenant = ?"), tenant)
		if err == nil {
			n, err = res.RowsAffected()
		}
		if err != nil {
			return err
		}
		return t.setSSODomains(ctx, tx, tenant, nil)
	})
	switch {
	case err != nil:
		return fmt.Errorf("delete sso provider: %w", err)
	case n == 0:
		return trail.Errorf(trail.ENOTFOUND, "%s has no single sign-on provider", tenant)
	}
	return nil
}

const ssoLoginColumns = "state_hash, binding_hash, tenant, nonce, verifier, next, expires_at"

// CreateSSOLogin stores l, deleting logins that expired before now.
func (t *Tables) CreateSSOLogin(ctx context.Context, l *trail.SSOLogin, now time.Time) error {
	if _, err := t.exec(ctx, "DELETE FROM sso_logins WHERE expires_at < ?", t.d.Time(now)); err != nil {
		return fmt.Errorf("prune sso logins: %w", err)
	}
	_, err := t.exec(ctx, "INSERT INTO sso_logins ("+ssoLoginColumns+") VALUES (?, ?, ?, ?, ?, ?, ?)",
		l.StateHash, l.BindingHash, l.Tenant, l.Nonce, l.Verifier, l.Next, t.d.Time(l.ExpiresAt))
	switch {
	case t.d.IsUnique(err):
		return trail.Errorf(trail.ECONFLICT, "sign-in state exists")
	case err != nil:
		return fmt.Errorf("create sso login: %w", err)
	}
	return nil
}

// TakeSSOLogin deletes and returns the login whose state hashes to
// stateHash; ENOTFOUND when there is none or it expired before now.
func (t *Tables) TakeSSOLogin(ctx context.Context, stateHash string, now time.Time) (*trail.SSOLogin, error) {
	ls, err := queryOn(t, t.w, ctx, scanSSOLogin, "DELETE FROM sso_logins WHERE state_hash = ? RETURNING "+ssoLoginColumns,
		stateHash)
	switch {
	case err != nil:
		return nil, fmt.Errorf("take sso login: %w", err)
	case len(ls) == 0 || !now.Before(ls[0].ExpiresAt):
		return nil, trail.Errorf(trail.ENOTFOUND, "no pending sign-in with that state")
	}
	return ls[0], nil
}

func scanSSOLogin(rows *sql.Rows, l *trail.SSOLogin) error {
	return rows.Scan(&l.StateHash, &l.BindingHash, &l.Tenant, &l.Nonce, &l.Verifier, &l.Next, ScanTime(&l.ExpiresAt))
}
