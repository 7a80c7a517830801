package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/trailhq/trail"
)

const keyColumns = "id, name, tenant, platform, scopes, created_at, expires_at, revoked_at, hash"

// CreateKey stores a new API key; ECONFLICT if its id is taken.
func (db *DB) CreateKey(ctx context.Context, k *trail.APIKey) error {
	_, err := db.pool.Exec(ctx, "INSERT INTO api_keys ("+keyColumns+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
		k.ID, k.Name, k.Tenant, k.Platform, k.Scopes, k.CreatedAt, nullTime(k.ExpiresAt), nullTime(k.RevokedAt), k.Hash)
	switch {
	case isUniqueViolation(err):
		return trail.Errorf(trail.ECONFLICT, "key %s already exists", k.ID)
	case err != nil:
		return fmt.Errorf("create key: %w", wrap(err))
	}
	return nil
}

// Key returns the key with id, or ENOTFOUND.
func (db *DB) Key(ctx context.Context, id string) (*trail.APIKey, error) {
	keys, err := db.queryKeys(ctx, "SELECT "+keyColumns+" FROM api_keys WHERE id = $1", id)
	switch {
	case err != nil:
		return nil, fmt.Errorf("read key: %w", wrap(err))
	case len(keys) == 0:
		return nil, trail.Errorf(trail.ENOTFOUND, "key %s not found", id)
	}
	return keys[0], nil
}

// Keys lists the tenant keys of scope.Tenant, or every key when scope.All,
// newest first.
func (db *DB) Keys(ctx context.Context, scope trail.Scope) ([]*trail.APIKey, error) {
	where, args := "tenant = $1 AND NOT platform", []any{scope.Tenant}
	if scope.All {
		where, args = "true", nil
	}
	keys, err := db.queryKeys(ctx, "SELECT "+keyColumns+" FROM api_keys WHERE "+where+
		" ORDER BY created_at DESC, id DESC", args...)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", wrap(err))
	}
	return keys, nil
}

// RevokeKey marks the key revoked at t, keeping the first revocation time
// of a key revoked twice; ENOTFOUND if no such key exists in scope.
func (db *DB) RevokeKey(ctx context.Context, scope trail.Scope, id string, t time.Time) error {
	where, args := "id = $2", []any{t, id}
	if !scope.All {
		where, args = "id = $2 AND tenant = $3 AND NOT platform", append(args, scope.Tenant)
	}
	tag, err := db.pool.Exec(ctx, "UPDATE api_keys SET revoked_at = coalesce(revoked_at, $1) WHERE "+where, args...)
	if err != nil {
		return fmt.Errorf("revoke key: %w", wrap(err))
	}
	if tag.RowsAffected() == 0 {
		return trail.Errorf(trail.ENOTFOUND, "key %s not found", id)
	}
	return nil
}

func (db *DB) queryKeys(ctx context.Context, query string, args ...any) ([]*trail.APIKey, error) {
	rows, err := db.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	keys := []*trail.APIKey{}
	for rows.Next() {
		var k trail.APIKey
		var expires, revoked *time.Time
		err := rows.Scan(&k.ID, &k.Name, &k.Tenant, &k.Platform, &k.Scopes, &k.CreatedAt, &expires, &revoked, &k.Hash)
		if err != nil {
			return nil, err
		}
		k.CreatedAt = k.CreatedAt.UTC()
		if expires != nil {
			k.ExpiresAt = expires.UTC()
		}
		if revoked != nil {
			k.RevokedAt = revoked.UTC()
		}
		keys = append(keys, &k)
	}
	return keys, rows.Err()
}

// nullTime stores the zero time as NULL.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}
