package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/trailhq/trail"
)

var _ trail.SchemaStore = (*DB)(nil)

// CreateActionSchema stores s as the next version of its line. The write
// transaction serializes concurrent registrations, so versions never
// collide.
func (db *DB) CreateActionSchema(ctx context.Context, s *trail.ActionSchema) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create action schema: %w", err)
	}
	defer rollback(tx)
	var last int
	err = tx.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM action_schemas WHERE tenant = ? AND action = ?",
		s.Tenant, s.Action).Scan(&last)
	if err != nil {
		return fmt.Errorf("create action schema: %w", err)
	}
	c := *s
	c.Version = last + 1
	c.CreatedAt = c.CreatedAt.UTC().Truncate(time.Microsecond)
	doc, err := json.Marshal(&c)
	if err != nil {
		return fmt.Errorf("create action schema: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO action_schemas (tenant, action, version, doc, created_at)
		VALUES (?, ?, ?, ?, ?)`, c.Tenant, c.Action, c.Version, doc, c.CreatedAt.UnixMicro())
	if err != nil {
		return fmt.Errorf("create action schema: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create action schema: %w", err)
	}
	*s = c
	return nil
}

// ActionSchemas returns tenant's own schemas of action (of every action
// when action is ""), by action and version.
func (db *DB) ActionSchemas(ctx context.Context, tenant, action string) ([]*trail.ActionSchema, error) {
	q, args := "SELECT doc FROM action_schemas WHERE tenant = ? ORDER BY action, version", []any{tenant}
	if action != "" {
		q, args = "SELECT doc FROM action_schemas WHERE tenant = ? AND action = ? ORDER BY version", []any{tenant, action}
	}
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list action schemas: %w", err)
	}
	defer rows.Close()
	out := []*trail.ActionSchema{}
	for rows.Next() {
		var doc []byte
		var s trail.ActionSchema
		if err := rows.Scan(&doc); err != nil {
			return nil, fmt.Errorf("list action schemas: %w", err)
		}
		if err := json.Unmarshal(doc, &s); err != nil {
			return nil, fmt.Errorf("decode action schema: %w", err)
		}
		out = append(out, &s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list action schemas: %w", err)
	}
	return out, nil
}

// ValidationMode returns tenant's validation mode, off when never set.
func (db *DB) ValidationMode(ctx context.Context, tenant string) (string, error) {
	var mode string
	err := db.r.QueryRowContext(ctx, "SELECT mode FROM validation_modes WHERE tenant = ?", tenant).Scan(&mode)
	switch {
	case err == sql.ErrNoRows:
		return trail.ValidationOff, nil
	case err != nil:
		return "", fmt.Errorf("read validation mode: %w", err)
	}
	return mode, nil
}

// SetValidationMode sets tenant's validation mode.
func (db *DB) SetValidationMode(ctx context.Context, tenant, mode string, at time.Time) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO validation_modes (tenant, mode, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (tenant) DO UPDATE SET mode = excluded.mode, updated_at = excluded.updated_at`,
		tenant, mode, at.UnixMicro())
	if err != nil {
		return fmt.Errorf("set validation mode: %w", err)
	}
	return nil
}
