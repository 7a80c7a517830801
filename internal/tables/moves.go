package tables

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/trailhq/trail"
)

// MovedEvents returns the recorded moves out of tenant's log, by seq.
func (t *Tables) MovedEvents(ctx context.Context, tenant string) ([]*trail.MovedEvent, error) {
	moves, err := query(t, ctx, func(rows *sql.Rows, m *trail.MovedEvent) error {
		return rows.Scan(&m.Tenant, &m.Seq, &m.ToTenant, &m.ToSeq, ScanTime(&m.MovedAt))
	}, "SELECT tenant, seq, to_tenant, to_seq, moved_at FROM ledger_moves WHERE tenant = ? ORDER BY seq", tenant)
	if err != nil {
		return nil, fmt.Errorf("read moved events: %w", err)
	}
	return moves, nil
}
