package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/trailhq/trail"
)

var _ trail.SchemaStore = (*DB)(nil)

// CreateActionSchema stores s as the next version of its line. Two nodes
// registering at once compute the same next version; the loser's insert
// violates the primary key and tries again with the next number.
func (db *DB) CreateActionSchema(ctx context.Context, s *trail.ActionSchema) error {
	for attempt := 0; ; attempt++ {
		c := *s
		c.CreatedAt = c.CreatedAt.UTC().Truncate(time.Microsecond)
		err := db.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) + 1 FROM action_schemas
			WHERE tenant = $1 AND action = $2`, c.Tenant, c.Action).Scan(&c.Version)
		if err != nil {
			return fmt.Errorf("create action schema: %w", wrap(err))
		}
		doc, err := json.Marshal(&c)
		if err != nil {
			return fmt.Errorf("create action schema: %w", err)
		}
		_, err = db.pool.Exec(ctx, `INSERT INTO action_schemas (tenant, action, version, doc, created_at)
			VALUES ($1, $2, $3, $4, $5)`, c.Tenant, c.Action, c.Version, string(doc), c.CreatedAt)
		switch {
		case isUniqueViolation(err) && attempt < 10:
			continue
		case err != nil:
			return fmt.Errorf("create action schema: %w", wrap(err))
		}
		*s = c
		return nil
	}
}

// ActionSchemas returns tenant's own schemas of action (of every action
// when action is ""), by action and version.
func (db *DB) ActionSchemas(ctx context.Context, tenant, action string) ([]*trail.ActionSchema, error) {
	q, args := "SELECT doc FROM action_schemas WHERE tenant = $1 ORDER BY action, version", []any{tenant}
	if action != "" {
		q, args = "SELECT doc FROM action_schemas WHERE tenant = $1 AND action = $2 ORDER BY version", []any{tenant, action}
	}
	docs, err := queryStrings(ctx, db, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list action schemas: %w", wrap(err))
	}
	out := make([]*trail.ActionSchema, len(docs))
	for i, doc := range docs {
		out[i] = new(trail.ActionSchema)
		if err := json.Unmarshal([]byte(doc), out[i]); err != nil {
			return nil, fmt.Errorf("decode action schema: %w", err)
		}
	}
	return out, nil
}

// ValidationMode returns tenant's validation mode, off when never set.
func (db *DB) ValidationMode(ctx context.Context, tenant string) (string, error) {
	var mode string
	err := db.pool.QueryRow(ctx, "SELECT mode FROM validation_modes WHERE tenant = $1", tenant).Scan(&mode)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return trail.ValidationOff, nil
	case err != nil:
		return "", fmt.Errorf("read validation mode: %w", wrap(err))
	}
	return mode, nil
}

// SetValidationMode sets tenant's validation mode.
func (db *DB) SetValidationMode(ctx context.Context, tenant, mode string, at time.Time) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO validation_modes (tenant, mode, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (tenant) DO UPDATE SET mode = excluded.mode, updated_at = excluded.updated_at`, tenant, mode, at)
	if err != nil {
		return fmt.Errorf("set validation mode: %w", wrap(err))
	}
	return nil
}

// queryStrings runs a query of one text column and collects its values.
func queryStrings(ctx context.Context, db *DB, q string, args ...any) ([]string, error) {
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
