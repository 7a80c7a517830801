package trail

import (
	"context"
	"time"
)

// DefaultRetentionDays is how long a tenant's events are kept when its
// policy was never set.
const DefaultRetentionDays = 365

// MaxRetentionDays bounds a retention policy (1000 years), so that cutoffs
// stay inside the range of every store's time type.
const MaxRetentionDays = 365_000

// RetentionPolicy is how long one tenant's events are kept.
type RetentionPolicy struct {
	// Tenant is the tenant the policy applies to; "" is the log of system
	// events.
	Tenant string `json:"tenant"`
	// Days is at least 1: events whose occurred_at is older than Days days
	// are deleted by the retention job, unless a legal hold keeps them.
	Days int `json:"days"`
	// UpdatedAt is zero for the default policy.
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Cutoff returns the time before which p lets events go at now.
func (p *RetentionPolicy) Cutoff(now time.Time) time.Time {
	return now.UTC().AddDate(0, 0, -p.Days).Truncate(time.Microsecond)
}

// Legal hold kinds.
const (
	HoldTenant    = "tenant"     // every event of the tenant
	HoldTarget    = "target"     // events touching one target (type and id)
	HoldTimeRange = "time_range" // events whose occurred_at is in [Since, Until)
)

// HoldKinds lists every hold kind, in the order they are documented.
var HoldKinds = []string{HoldTenant, HoldTarget, HoldTimeRange}

// Hold is a legal hold: while it exists, retention never deletes the events
// it covers.
type Hold struct {
	ID     string `json:"id"`
	Tenant string `json:"tenant"`
	Kind   string `json:"kind"`
	// TargetType and TargetID name the target of a HoldTarget.
	TargetType string `json:"target_type,omitempty"`
	TargetID   string `json:"target_id,omitempty"`
	// Since and Until bound a HoldTimeRange: occurred_at in [Since, Until).
	Since     time.Time `json:"since,omitzero"`
	Until     time.Time `json:"until,omitzero"`
	Reason    string    `json:"reason,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// CreatedBy is the id of the API key that set the hold.
	CreatedBy string `json:"created_by,omitempty"`
}

// Covers reports whether h keeps event e from being deleted.
func (h *Hold) Covers(e *Event) bool {
	if h.Tenant != e.Tenant {
		return false
	}
	switch h.Kind {
	case HoldTenant:
		return true
	case HoldTimeRange:
		return !e.OccurredAt.Before(h.Since) && e.OccurredAt.Before(h.Until)
	case HoldTarget:
		for _, t := range e.Targets {
			if t.Type == h.TargetType && t.ID == h.TargetID {
				return true
			}
		}
	}
	return false
}

// RetentionStore keeps retention policies and legal holds, and deletes
// expired events. Deleting also needs the store's LedgerStore, which
// records every pruned range before its events go.
type RetentionStore interface {
	// RetentionPolicy returns tenant's policy, or the default policy
	// (DefaultRetentionDays, zero UpdatedAt) when none was set.
	RetentionPolicy(ctx context.Context, tenant string) (*RetentionPolicy, error)
	// SetRetentionPolicy stores p, replacing tenant's previous policy.
	SetRetentionPolicy(ctx context.Context, p *RetentionPolicy) error

	// CreateHold stores h.
	CreateHold(ctx context.Context, h *Hold) error
	// Holds lists the holds of scope.Tenant, or every hold when scope.All,
	// oldest first.
	Holds(ctx context.Context, scope Scope) ([]*Hold, error)
	// DeleteHold deletes hold id and returns it; ENOTFOUND when it does not
	// exist in scope.
	DeleteHold(ctx context.Context, scope Scope, id string) (*Hold, error)

	// RetentionEnd returns the first Seq >= from of tenant's log whose
	// event has occurred_at >= cutoff, or the log's size when there is
	// none: events with Seq in [from, end) are all past cutoff.
	RetentionEnd(ctx context.Context, tenant string, from int64, cutoff time.Time) (int64, error)
	// DeleteEvents examines up to limit events of tenant's log with Seq in
	// [from, before), lowest Seq first, and deletes those that no hold
	// covers (holds are read in the deleting transaction, so a hold set
	// before the call always wins). It returns how many it deleted and the
	// Seq to continue from, which is before when the range is done.
	DeleteEvents(ctx context.Context, tenant string, from, before int64, limit int) (deleted, next int64, err error)
}

// PartitionDropper is implemented by stores that partition events by time
// (PostgreSQL). Dropping a whole partition is far cheaper than deleting its
// rows one by one.
type PartitionDropper interface {
	// DropPrunedPartitions drops every partition of events whose time
	// range ends at or before before and all of whose rows have
	// Seq < ends[row's tenant] and are covered by no hold, and returns how
	// many events it dropped per tenant.
	DropPrunedPartitions(ctx context.Context, before time.Time, ends map[string]int64) (map[string]int64, error)
}
