package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/trailhq/trail"
)

const keyColumns = "id, name, tenant, platform, scopes, created_at, expires_at, revoked_at, hash"

// CreateKey stores a new API key; ECONFLICT if its id is taken.
func (db *DB) CreateKey(ctx context.Context, k *trail.APIKey) error {
	scopes, err := json.Marshal(k.Scopes)
	if err != nil {
		return fmt.Errorf("create key: %w", err)
	}
	_, err = db.w.ExecContext(ctx, "INSERT INTO api_keys ("+keyColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		k.ID, k.Name, k.Tenant, k.Platform, string(scopes), k.CreatedAt.UnixMicro(),
		micros(k.ExpiresAt), micros(k.RevokedAt), k.Hash)
	switch {
	case isConstraint(err):
		return trail.Errorf(trail.ECONFLICT, "key %s already exists", k.ID)
	case err != nil:
		return fmt.Errorf("create key: %w", err)
	}
	return nil
}

// Key returns the key with id, or ENOTFOUND.
func (db *DB) Key(ctx context.Context, id string) (*trail.APIKey, error) {
	rows, err := db.r.QueryContext(ctx, "SELECT "+keyColumns+" FROM api_keys WHERE id = ?", id)
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	keys, err := scanKeys(rows)
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
func (db *DB) Keys(ctx context.Context, scope trail.Scope) ([]*trail.APIKey, error) {
	where, args := "tenant = ? AND platform = 0", []any{scope.Tenant}
	if scope.All {
		where, args = "1", nil
	}
	rows, err := db.r.QueryContext(ctx, "SELECT "+keyColumns+" FROM api_keys WHERE "+where+
		" ORDER BY created_at DESC, id DESC", args...)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	keys, err := scanKeys(rows)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	return keys, nil
}

// RevokeKey marks the key revoked at t, keeping the first revocation time
// of a key revoked twice; ENOTFOUND if no such key exists in scope.
func (db *DB) RevokeKey(ctx context.Context, scope trail.Scope, id string, t time.Time) error {
	where, args := "id = ?", []any{micros(t), id}
	if !scope.All {
		where, args = "id = ? AND tenant = ? AND platform = 0", append(args, scope.Tenant)
	}
	res, err := db.w.ExecContext(ctx, "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE "+where, args...)
	if err != nil {
		return fmt.Errorf("revoke key: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return trail.Errorf(trail.ENOTFOUND, "key %s not found", id)
	}
	return nil
}

func scanKeys(rows *sql.Rows) ([]*trail.APIKey, error) {
	defer rows.Close()
	keys := []*trail.APIKey{}
	for rows.Next() {
		var k trail.APIKey
		var scopes string
		var created, expires, revoked sql.NullInt64
		err := rows.Scan(&k.ID, &k.Name, &k.Tenant, &k.Platform, &scopes, &created, &expires, &revoked, &k.Hash)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(scopes), &k.Scopes); err != nil {
			return nil, fmt.Errorf("key %s: scopes: %w", k.ID, err)
		}
		k.CreatedAt, k.ExpiresAt, k.RevokedAt = fromMicros(created), fromMicros(expires), fromMicros(revoked)
		keys = append(keys, &k)
	}
	return keys, rows.Err()
}
