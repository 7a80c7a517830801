package tables

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/trailhq/trail"
)

// RetentionPolicy returns tenant's policy, or the default one.
func (t *Tables) RetentionPolicy(ctx context.Context, tenant string) (*trail.RetentionPolicy, error) {
	p := &trail.RetentionPolicy{Tenant: tenant, Days: trail.DefaultRetentionDays}
	err := t.r.QueryRowContext(ctx, t.d.Rebind("SELECT days, updated_at FROM retention_policies WHERE tenant = ?"), tenant).
		Scan(&p.Days, ScanTime(&p.UpdatedAt))
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("read retention policy: %w", t.d.Wrap(err))
	}
	return p, nil
}

// SetRetentionPolicy stores p, replacing the tenant's previous policy.
func (t *Tables) SetRetentionPolicy(ctx context.Context, p *trail.RetentionPolicy) error {
	_, err := t.exec(ctx, `INSERT INTO retention_policies (tenant, days, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (tenant) DO UPDATE SET days = excluded.days, updated_at = excluded.updated_at`,
		p.Tenant, p.Days, t.d.Time(p.UpdatedAt))
	if err != nil {
		return fmt.Errorf("set retention policy: %w", err)
	}
	return nil
}

const holdColumns = "id, tenant, kind, target_type, target_id, since, until, reason, created_at, created_by"

// CreateHold stores h.
func (t *Tables) CreateHold(ctx context.Context, h *trail.Hold) error {
	_, err := t.exec(ctx, "INSERT INTO legal_holds ("+holdColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		h.ID, h.Tenant, h.Kind, h.TargetType, h.TargetID, t.nullTime(h.Since), t.nullTime(h.Until),
		h.Reason, t.d.Time(h.CreatedAt), h.CreatedBy)
	switch {
	case t.d.IsUnique(err):
		return trail.Errorf(trail.ECONFLICT, "hold %s exists", h.ID)
	case err != nil:
		return fmt.Errorf("create hold: %w", err)
	}
	return nil
}

// Holds lists the holds of scope, oldest first.
func (t *Tables) Holds(ctx context.Context, scope trail.Scope) ([]*trail.Hold, error) {
	where, args := "1 = 1", []any(nil)
	if !scope.All {
		where, args = "tenant = ?", []any{scope.Tenant}
	}
	holds, err := query(t, ctx, scanHold, "SELECT "+holdColumns+" FROM legal_holds WHERE "+where+" ORDER BY created_at, id", args...)
	if err != nil {
		return nil, fmt.Errorf("list holds: %w", err)
	}
	return holds, nil
}

// DeleteHold deletes hold id of scope and returns it.
func (t *Tables) DeleteHold(ctx context.Context, scope trail.Scope, id string) (*trail.Hold, error) {
	where, args := "id = ?", []any{id}
	if !scope.All {
		where, args = "id = ? AND tenant = ?", append(args, scope.Tenant)
	}
	holds, err := queryOn(t, t.w, ctx, scanHold, "DELETE FROM legal_holds WHERE "+where+" RETURNING "+holdColumns, args...)
	switch {
	case err != nil:
		return nil, fmt.Errorf("delete hold: %w", err)
	case len(holds) == 0:
		return nil, trail.Errorf(trail.ENOTFOUND, "hold %s not found", id)
	}
	return holds[0], nil
}

func scanHold(rows *sql.Rows, h *trail.Hold) error {
	return rows.Scan(&h.ID, &h.Tenant, &h.Kind, &h.TargetType, &h.TargetID, ScanTime(&h.Since), ScanTime(&h.Until),
		&h.Reason, ScanTime(&h.CreatedAt), &h.CreatedBy)
}
