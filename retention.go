package trail

import (
	"context"
	"fmt"
	"strings"
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
	// CreatedBy is the id of the API key, or console user, that set the
	// hold.
	CreatedBy string `json:"created_by,omitempty"`
}

// HoldRequest is a legal hold as asked for, through the API or the
// console, before it is checked: times are RFC 3339 text.
type HoldRequest struct {
	Kind, TargetType, TargetID, Since, Until, Reason string
}

// NewHold checks req and returns the hold of tenant that it asks for, set
// by the key or user by at now; every problem at once, as EINVALID.
func NewHold(tenant string, req HoldRequest, by string, now time.Time) (*Hold, error) {
	var p Problems
	now = NormalTime(now)
	h := &Hold{ID: "h_" + NewID(now), Tenant: tenant, Kind: req.Kind, Reason: req.Reason, CreatedAt: now, CreatedBy: by}
	switch req.Kind {
	case HoldTenant:
	case HoldTarget:
		h.TargetType, h.TargetID = req.TargetType, req.TargetID
		holdRequired(&p, "target_type", req.TargetType)
		holdRequired(&p, "target_id", req.TargetID)
	case HoldTimeRange:
		h.Since, h.Until = holdTime(&p, "since", req.Since), holdTime(&p, "until", req.Until)
		if !h.Since.IsZero() && !h.Until.IsZero() && !h.Since.Before(h.Until) {
			p.Add(-1, "until", "must be after since")
		}
	default:
		p.Add(-1, "kind", "must be "+strings.Join(HoldKinds, ", "))
	}
	if req.Kind != HoldTarget && (req.TargetType != "" || req.TargetID != "") {
		p.Add(-1, "target_type", `belongs to a hold of kind "target"`)
	}
	if req.Kind != HoldTimeRange && (req.Since != "" || req.Until != "") {
		p.Add(-1, "since", `belongs to a hold of kind "time_range"`)
	}
	if len(req.Reason) > 1000 || !printable(strings.ReplaceAll(req.Reason, "\n", " ")) {
		p.Add(-1, "reason", "must be at most 1000 characters, without control characters")
	}
	return h, p.Err()
}

func holdRequired(p *Problems, field, v string) {
	switch {
	case v == "":
		p.Add(-1, field, "required")
	case len(v) > 256 || !printable(v):
		p.Add(-1, field, "must be at most 256 characters, without control characters")
	}
}

func holdTime(p *Problems, field, v string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		p.Add(-1, field, "required: an RFC 3339 timestamp like 2026-11-23T12:00:00Z")
		return time.Time{}
	}
	return NormalTime(t)
}

// CheckRetentionDays checks the days of a retention policy.
func CheckRetentionDays(days int) error {
	if days < 1 || days > MaxRetentionDays {
		return Invalid("days", fmt.Sprintf("must be an integer from 1 to %d", MaxRetentionDays))
	}
	return nil
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
