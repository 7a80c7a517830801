package tables

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/trailhq/trail"
)

var _ trail.SchemaStore = (*Tables)(nil)

// CreateActionSchema stores s as the next version of its line. Two nodes
// registering at once compute the same next version; the loser's insert
// violates the primary key and tries again with the next number.
func (t *Tables) CreateActionSchema(ctx context.Context, s *trail.ActionSchema) error {
	for attempt := 0; ; attempt++ {
		c := *s
		c.CreatedAt = trail.NormalTime(c.CreatedAt)
		err := t.w.QueryRowContext(ctx, t.d.Rebind(`SELECT coalesce(max(version), 0) + 1 FROM action_schemas
			WHERE tenant = ? AND action = ?`), c.Tenant, c.Action).Scan(&c.Version)
		if err != nil {
			return fmt.Errorf("create action schema: %w", t.d.Wrap(err))
		}
		doc, err := json.Marshal(&c)
		if err != nil {
			return fmt.Errorf("create action schema: %w", err)
		}
		_, err = t.exec(ctx, `INSERT INTO action_schemas (tenant, action, version, doc, created_at)
			VALUES (?, ?, ?, ?, ?)`, c.Tenant, c.Action, c.Version, t.d.Doc(doc), t.d.Time(c.CreatedAt))
		switch {
		case t.d.IsUnique(err) && attempt < 10:
			continue
		case err != nil:
			return fmt.Errorf("create action schema: %w", err)
		}
		*s = c
		return nil
	}
}

// ActionSchemas returns tenant's own schemas of action (of every action
// when action is ""), by action and version.
func (t *Tables) ActionSchemas(ctx context.Context, tenant, action string) ([]*trail.ActionSchema, error) {
	q, args := "SELECT doc FROM action_schemas WHERE tenant = ? ORDER BY action, version", []any{tenant}
	if action != "" {
		q, args = "SELECT doc FROM action_schemas WHERE tenant = ? AND action = ? ORDER BY version", []any{tenant, action}
	}
	out, err := query(t, ctx, scanDoc[trail.ActionSchema]("action schema"), q, args...)
	if err != nil {
		return nil, fmt.Errorf("list action schemas: %w", err)
	}
	return out, nil
}

// ValidationMode returns tenant's validation mode, off when never set.
func (t *Tables) ValidationMode(ctx context.Context, tenant string) (string, error) {
	var mode string
	err := t.r.QueryRowContext(ctx, t.d.Rebind("SELECT mode FROM validation_modes WHERE tenant = ?"), tenant).Scan(&mode)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return trail.ValidationOff, nil
	case err != nil:
		return "", fmt.Errorf("read validation mode: %w", t.d.Wrap(err))
	}
	return mode, nil
}

// SetValidationMode sets tenant's validation mode.
func (t *Tables) SetValidationMode(ctx context.Context, tenant, mode string, at time.Time) error {
	_, err := t.exec(ctx, `INSERT INTO validation_modes (tenant, mode, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (tenant) DO UPDATE SET mode = excluded.mode, updated_at = excluded.updated_at`,
		tenant, mode, t.d.Time(at))
	if err != nil {
		return fmt.Errorf("set validation mode: %w", err)
	}
	return nil
}

// scanDoc scans rows of one JSON column, each a what.
func scanDoc[T any](what string) func(*sql.Rows, *T) error {
	return func(rows *sql.Rows, v *T) error {
		var doc []byte
		if err := rows.Scan(&doc); err != nil {
			return err
		}
		if err := json.Unmarshal(doc, v); err != nil {
			return fmt.Errorf("decode %s: %w", what, err)
		}
		return nil
	}
}
