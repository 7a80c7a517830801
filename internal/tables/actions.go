package tables

import (
	"context"
	"fmt"

	"github.com/trailhq/trail"
)

// Actions lists the distinct actions visible in scope, sorted: the
// tenant's own and the system events' (tenant "").
func (t *Tables) Actions(ctx context.Context, scope trail.Scope) ([]string, error) {
	q, args := "SELECT DISTINCT action FROM event_actions ORDER BY action", []any(nil)
	if !scope.All {
		q = "SELECT DISTINCT action FROM event_actions WHERE tenant IN (?, '') ORDER BY action"
		args = []any{scope.Tenant}
	}
	rows, err := t.r.QueryContext(ctx, t.d.Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("list actions: %w", t.d.Wrap(err))
	}
	defer rows.Close()
	actions := []string{}
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, fmt.Errorf("list actions: %w", t.d.Wrap(err))
		}
		actions = append(actions, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list actions: %w", t.d.Wrap(err))
	}
	return actions, nil
}
