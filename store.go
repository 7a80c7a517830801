package trail

import (
	"context"
	"time"
)

// Batch is the events of one ingest request. A batch is stored whole or not
// at all.
type Batch struct {
	Events []*Event
	// Idempotency, when set, makes the batch a no-op if its key was stored
	// before: the store then sets Replayed instead of storing Events.
	Idempotency *Idempotency
	// Replayed is set by the store when Idempotency's key was seen before.
	Replayed *IdempotentResponse
	// Encoded, when Encode filled it, holds the events' JSON for Seq 0;
	// stores read each event's JSON through EventJSON.
	Encoded [][]byte
	seqAt   []int // where Seq's digits go in each Encoded
}

// Idempotency identifies a request that a client may retry, and the response
// to remember for it.
type Idempotency struct {
	// Namespace keeps keys of different API keys apart: the API key's id.
	Namespace string
	// Key is the client's Idempotency-Key header.
	Key string
	// Response is stored with the batch and returned for retries.
	Response IdempotentResponse
}

// IdempotentResponse is the remembered answer to an idempotent request.
type IdempotentResponse struct {
	// RequestHash is a hash of the request body, so that reusing a key for
	// a different request is detected.
	RequestHash string
	Status      int
	Body        []byte
	CreatedAt   time.Time
}

// EventStore stores events and reads them back. Every read takes a Scope,
// applied at the store boundary.
type EventStore interface {
	// AppendBatches stores every batch in one transaction and returns only
	// once it is durable (fsynced). It assigns each stored event its Seq
	// (per tenant) and Pos (store-wide), both dense and in commit order, so
	// that a reader that keeps a position never skips an event.
	AppendBatches(ctx context.Context, batches []*Batch) error

	// Event returns the event with id, or ENOTFOUND when it does not exist
	// or is outside scope.
	Event(ctx context.Context, scope Scope, id string) (*Event, error)

	// Events returns one page of events matching q, in q's order.
	Events(ctx context.Context, q *Query) (*Page, error)

	// StreamEvents returns up to limit events with Pos > after, in Pos
	// order, across all tenants: the stream that forwarders and alert rules
	// follow.
	StreamEvents(ctx context.Context, after int64, limit int) ([]*Event, error)

	// LogEvents returns up to limit events of tenant's log with Seq >= from,
	// in Seq order: what the ledger integrates and verifies.
	LogEvents(ctx context.Context, tenant string, from int64, limit int) ([]*Event, error)

	// Actions lists the distinct actions visible in scope, sorted.
	Actions(ctx context.Context, scope Scope) ([]string, error)

	// Actors looks actors up in the directory of the tenants of q.Scope
	// (with the system events', as Actions): those one of whose recent
	// names starts with q.Prefix, ignoring case, by name, then those whose
	// id starts with it, by id; up to q.Limit, each once.
	Actors(ctx context.Context, q *ActorQuery) ([]*ActorEntry, error)

	// TargetTypes lists the distinct target types visible in scope, sorted.
	TargetTypes(ctx context.Context, scope Scope) ([]string, error)

	// PruneDirectory forgets the actor names and target types of tenant
	// whose latest event occurred on a UTC day before the day of before:
	// retention calls it once it has deleted those events. It returns how
	// many entries it removed.
	PruneDirectory(ctx context.Context, tenant string, before time.Time) (int64, error)

	// PruneIdempotency forgets idempotency keys stored before t.
	PruneIdempotency(ctx context.Context, before time.Time) (int64, error)
}

// KeyStore stores API keys.
type KeyStore interface {
	CreateKey(ctx context.Context, k *APIKey) error
	// Key returns the key with id, or ENOTFOUND.
	Key(ctx context.Context, id string) (*APIKey, error)
	// Keys lists the keys of scope.Tenant (tenant keys only), or every key
	// when scope.All, newest first.
	Keys(ctx context.Context, scope Scope) ([]*APIKey, error)
	// RevokeKey marks the key revoked at t; ENOTFOUND if it does not exist
	// in scope.
	RevokeKey(ctx context.Context, scope Scope, id string, t time.Time) error
}

// Leaser hands out named leases, so that singleton background work
// (ledger sequencing, a forwarder's delivery loop, retention) runs on one
// node at a time and moves to another node when its holder dies.
type Leaser interface {
	// AcquireLease takes or renews lease name for holder until now+ttl. It
	// reports false when another holder has an unexpired lease.
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	// ReleaseLease gives the lease up if holder has it.
	ReleaseLease(ctx context.Context, name, holder string) error
}

// Store is everything a Trail storage backend provides.
type Store interface {
	EventStore
	KeyStore
	Leaser
	// The settings, the ledger and the execution logs: both stores keep
	// them, so no caller has to ask at run time.
	UserStore
	MFAStore
	SSOStore
	ForwarderStore
	AlertStore
	SchemaStore
	RetentionStore
	LedgerStore
	LogStore
	SettingsStore
	// Ping reports whether the database answers; ingest and /readyz use it.
	Ping(ctx context.Context) error
	// CheckWritable reports whether the store can take a write now: it
	// writes and discards some data, and fails with ESTORAGEFULL,
	// ESTORAGEREADONLY or EUNAVAILABLE if it cannot. StoreHealth calls it
	// while the store is unhealthy, to notice recovery.
	CheckWritable(ctx context.Context) error
	Close() error
}

// ExportEvents calls fn for every event matching q, in q's order, reading
// page by page so that memory stays flat and no read transaction stays open
// for the whole export. q.After and q.Limit are ignored.
func ExportEvents(ctx context.Context, s EventStore, q Query, fn func(*Event) error) error {
	q.After, q.Limit = nil, MaxLimit
	for {
		page, err := s.Events(ctx, &q)
		if err != nil {
			return err
		}
		for _, e := range page.Events {
			if err := fn(e); err != nil {
				return err
			}
		}
		if page.Next == nil {
			return nil
		}
		q.After = page.Next
	}
}
