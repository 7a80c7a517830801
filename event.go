package trail

import (
	"encoding/json"
	"time"
)

// Well-known actor types. Any other lower-case word is accepted too.
const (
	ActorUser             = "user"
	ActorAPIKey           = "api_key"
	ActorSystem           = "system"
	ActorWorkflow         = "workflow"
	ActorExternalResource = "external_resource"
	ActorAlert            = "alert"
)

// SystemTenant is the tenant of system events: events written by a platform
// key with no tenant. Every tenant's readers see them.
const SystemTenant = ""

// OperatorTenant is the tenant of the operator log: what Trail records about
// its operator's own activity (platform keys, platform console users, the
// command line, nodes, retention over every log). It has its own Merkle log
// and retention policy. ValidTenant refuses '@', so no tenant, tenant key,
// user or posted event can name it, and a tenant's Scope never includes it:
// only platform keys and platform console users read it.
const OperatorTenant = "@operator"

// AuditLog returns the log where Trail records an action taken in tenant's
// name: tenant's own log, or the operator log for an action with no tenant
// (a platform key's, the command line's, a node's). System events are only
// those a platform key publishes on purpose, never Trail's own records.
func AuditLog(tenant string) string {
	if tenant == SystemTenant {
		return OperatorTenant
	}
	return tenant
}

// Event is one stored audit event: who did what, to which entities, when and
// from where.
type Event struct {
	// ID is assigned by Trail: a UUIDv7, so ids sort by arrival time.
	ID string `json:"id"`
	// Tenant is the organization the event belongs to; "" for system events.
	Tenant string `json:"tenant"`
	// Seq is the event's position in its tenant's log (0, 1, 2, ...), which
	// is also its leaf index in the tenant's Merkle tree. Assigned by the
	// store in commit order.
	Seq int64 `json:"seq"`
	// Pos is the event's position in the store-wide stream, assigned in
	// commit order; forwarders and other readers of the stream keep it as a
	// cursor. It is not part of the event's JSON or its ledger leaf.
	Pos int64 `json:"-"`

	Action     string    `json:"action"`
	OccurredAt time.Time `json:"occurred_at"`
	ReceivedAt time.Time `json:"received_at"`
	Actor      Actor     `json:"actor"`
	Targets    []Target  `json:"targets"`
	Context    Context   `json:"context"`
	// Metadata is a JSON object, stored compacted; nil when absent.
	Metadata json.RawMessage `json:"metadata,omitempty"`
	// Version is the version of the action's schema that the event follows.
	Version int    `json:"version"`
	TraceID string `json:"trace_id,omitempty"`

	// Raw is the event's JSON as stored, set by the store when it reads
	// or appends the event, so that the event travels as those bytes
	// (StoredJSON) instead of being encoded again. Whoever changes a
	// stored event must set Raw to nil.
	Raw []byte `json:"-"`
}

// Actor is who (or what) performed the action.
type Actor struct {
	Type     string          `json:"type"`
	ID       string          `json:"id,omitempty"`
	Name     string          `json:"name,omitempty"`
	Metadata json.RawMessage `json:"metadata,omitempty"`
}

// Target is an entity the action touched.
type Target struct {
	Type     string          `json:"type"`
	ID       string          `json:"id"`
	Name     string          `json:"name,omitempty"`
	Metadata json.RawMessage `json:"metadata,omitempty"`
}

// Context is where the action came from.
type Context struct {
	IP        string `json:"ip,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
	Location  string `json:"location,omitempty"`
}

// Visible reports whether an event of tenant is visible in scope s.
func (s Scope) Visible(tenant string) bool {
	return s.All || tenant == s.Tenant || tenant == SystemTenant
}

// Scope is the set of tenants a reader may see. Every read is scoped at the
// store boundary.
type Scope struct {
	// Tenant is the reader's tenant. Its events and system events are
	// visible.
	Tenant string
	// All makes every tenant visible (platform keys).
	All bool
}

// NewSystemEvent builds an event that Trail records about its own sensitive
// actions (keys created, exports, settings changes). The caller appends it
// like any other event; now is the time it happened. Callers recording an
// action that may have no tenant pass AuditLog(tenant), so that it goes to
// the operator log and not to the system events.
func NewSystemEvent(tenant, action string, actor Actor, ctx Context, now time.Time, targets ...Target) *Event {
	now = NormalTime(now)
	if targets == nil {
		targets = []Target{}
	}
	return &Event{
		ID:         NewID(now),
		Tenant:     tenant,
		Action:     action,
		OccurredAt: now,
		ReceivedAt: now,
		Actor:      actor,
		Targets:    targets,
		Context:    ctx,
		Version:    1,
	}
}
