package tables

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/trailhq/trail"
)

const keyColumns = "id, name, tenant, platform, scopes, created_at, expires_at, revoked_at, hash"

// CreateKey stores a new API key; ECONFLICT if its id is taken.
func (t *Tables) CreateKey(ctx context.Context, k *trail.APIKey) error {
	scopes, err := t.d.Strings(k.Scopes)
	if err != nil {
		return fmt.Errorf("create key: %w", err)
	}
	_, err = t.exec(ctx, "INSERT INTO api_keys ("+keyColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		k.ID, k.Name, k.Tenant, k.Platform, scopes, t.d.Time(k.CreatedAt),
		t.nullTime(k.ExpiresAt), t.nullTime(k.RevokedAt), k.Hash)
	switch {
	case t.d.IsUnique(err):
		return trail.Errorf(trail.ECONFLICT, "key %s already exists", k.ID)
	case err != nil:
		return fmt.Errorf("create key: %w", err)
	}
	return nil
}

// Key returns the key with id, or ENOTFOUND.
func (t *Tables) Key(ctx context.Context, id string) (*trail.APIKey, error) {
	keys, err := query(t, ctx, t.scanKey, "SELECT "+keyColumns+" FROM api_keys WHERE id = ?", id)
	switch {
	case err != nil:
		return nil, fmt.Errorf("read key: %w", err)
	case len(keys) == 0:
		return nil, trail.Errorf(trail.ENOTFOUND, "key %s not found", id)
	}
	return keys[0], nil
}

// Keys lists the tenant keys of scope.Tenant, or every key when scope.All,
// newest first.
func (t *Tables) Keys(ctx context.Context, scope trail.Scope) ([]*trail.APIKey, error) {
	where, args := "tenant = ? AND NOT platform", []any{scope.Tenant}
	if scope.All {
		where, args = "1 = 1", nil
	}
	keys, err := query(t, ctx, t.scanKey, "SELECT "+keyColumns+" FROM api_keys WHERE "+where+
		" ORDER BY created_at DESC, id DESC", args...)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	return keys, nil
}

// RevokeKey marks the key revoked at at, keeping the first revocation time
// of a key revoked twice; ENOTFOUND if no such key exists in scope.
func (t *Tables) RevokeKey(ctx context.Context, scope trail.Scope, id string, at time.Time) error {
	where, args := "id = ?", []any{t.nullTime(at), id}
	if !scope.All {
		where, args = "id = ? AND tenant = ? AND NOT platform", append(args, scope.Tenant)
	}
	n, err := t.exec(ctx, "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE "+where, args...)
	if err != nil {
		return fmt.Errorf("revoke key: %w", err)
	}
	if n == 0 {
		return trail.Errorf(trail.ENOTFOUND, "key %s not found", id)
	}
	return nil
}

func (t *Tables) scanKey(rows *sql.Rows, k *trail.APIKey) error {
	err := rows.Scan(&k.ID, &k.Name, &k.Tenant, &k.Platform, t.d.ScanStrings(&k.Scopes), ScanTime(&k.CreatedAt),
		ScanTime(&k.ExpiresAt), ScanTime(&k.RevokedAt), &k.Hash)
	if err != nil {
		return fmt.Errorf("key %s: %w", k.ID, err)
	}
	return nil
}
