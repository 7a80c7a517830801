package forward

import (
	"context"
	"fmt"

	"github.com/trailhq/trail"
)

// ShowStatus fills in the lag of f's status, which stores do not keep, in
// terms f's owner may see. An operator forwarder keeps stream positions:
// its cursor is the Pos of the last event it examined, its lag how many
// events of the stream lie beyond. A tenant's forwarder must not reveal
// other tenants' volume, so its cursor counts the tenant's own events it
// delivered or skipped (the Seq of its next one), and its lag counts the
// events it sees (the tenant's and system events) not yet delivered. head
// is the stream's head (StreamHead), read once for a list.
func ShowStatus(ctx context.Context, s trail.ForwarderStore, f *trail.Forwarder, head int64) error {
	if f.Status == nil {
		return nil
	}
	st := *f.Status
	f.Status = &st
	if f.Tenant == "" {
		st.Lag = max(0, head-st.Cursor)
		return nil
	}
	next, behind, err := s.LogProgress(ctx, f.Tenant, st.Cursor)
	if err != nil {
		return fmt.Errorf("forwarder status: %w", err)
	}
	_, system, err := s.LogProgress(ctx, trail.SystemTenant, st.Cursor)
	if err != nil {
		return fmt.Errorf("forwarder status: %w", err)
	}
	st.Cursor, st.Lag = next, behind+system
	return nil
}
