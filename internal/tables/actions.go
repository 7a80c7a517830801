package tables

import (
	"context"
	"fmt"

	"github.com/trailhq/trail"
)

// Actions lists the distinct actions visible in scope, sorted: the
// tenant's own and the system events' (tenant "").
func (t *Tables) Actions(ctx context.Context, scope trail.Scope) ([]string, error) {
	where, args := tenantIn(scope)
	out, err := t.column(ctx, "SELECT DISTINCT action FROM event_actions WHERE "+where+" ORDER BY action", args...)
	if err != nil {
		return nil, fmt.Errorf("list actions: %w", err)
	}
	return out, nil
}

// column runs q (with ? placeholders) on the read pool and returns its
// one text column.
func (t *Tables) column(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := t.r.QueryContext(ctx, t.d.Rebind(q), args...)
	if err != nil {
		return nil, t.d.Wrap(err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, t.d.Wrap(err)
		}
		out = append(out, s)
	}
	return out, t.d.Wrap(rows.Err())
}
