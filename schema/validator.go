package schema

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/trailhq/trail"
)

// CacheTTL is how long a Validator trusts what it read about a tenant's
// validation mode and schema lines. Changes made through the same Validator
// apply at once; changes made on another node apply within CacheTTL, and a
// version that an event names but the cache lacks is looked up at once.
const CacheTTL = 5 * time.Second

// Validator checks events at ingest against their action's schema, for
// tenants whose validation mode is not off. It caches modes and compiled
// schemas, so that ingest reads the store rarely. It is safe for
// concurrent use.
type Validator struct {
	store trail.SchemaStore
	now   func() time.Time

	mu    sync.Mutex
	modes map[string]cachedMode
	lines map[lineKey]*line
}

type cachedMode struct {
	mode string
	at   time.Time
}

type lineKey struct{ tenant, action string }

// line is the schema line that applies to events of (tenant, action):
// the tenant's own line when it has one, else the platform line.
type line struct {
	owner    string
	versions map[int]*Compiled
	at       time.Time
}

// NewValidator returns a Validator reading store. now is the clock; nil
// means time.Now.
func NewValidator(store trail.SchemaStore, now func() time.Time) *Validator {
	if now == nil {
		now = time.Now
	}
	return &Validator{store: store, now: now, modes: map[string]cachedMode{}, lines: map[lineKey]*line{}}
}

// Check validates events (one ingest batch) and returns an EINVALID error
// listing every mismatch, each with the event's index and a field such as
// "metadata.plan", or nil when every event passes or validation is off for
// its tenant.
func (v *Validator) Check(ctx context.Context, events []*trail.Event) error {
	var p trail.Problems
	for i, e := range events {
		mode, err := v.mode(ctx, e.Tenant)
		if err != nil {
			return err
		}
		if mode == trail.ValidationOff {
			continue
		}
		if err := v.checkEvent(ctx, i, e, mode, &p); err != nil {
			return err
		}
	}
	return p.Err()
}

func (v *Validator) checkEvent(ctx context.Context, i int, e *trail.Event, mode string, p *trail.Problems) error {
	l, err := v.line(ctx, e.Tenant, e.Action, false)
	if err != nil {
		return err
	}
	if l.versions[e.Version] == nil && len(l.versions) > 0 || len(l.versions) == 0 && mode == trail.ValidationStrict {
		// Maybe registered a moment ago on another node: look again.
		if l, err = v.line(ctx, e.Tenant, e.Action, true); err != nil {
			return err
		}
	}
	c := l.versions[e.Version]
	switch {
	case c != nil:
		c.Check(i, e, p)
	case len(l.versions) > 0:
		p.Add(i, "version", fmt.Sprintf("action %s has no schema version %d (latest is %d)",
			e.Action, e.Version, slices.Max(mapKeys(l.versions))))
	case mode == trail.ValidationStrict:
		p.Add(i, "action", fmt.Sprintf("no schema is registered for %s, and this tenant's validation is strict", e.Action))
	}
	return nil
}

func mapKeys(m map[int]*Compiled) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

func (v *Validator) mode(ctx context.Context, tenant string) (string, error) {
	now := v.now()
	v.mu.Lock()
	c, ok := v.modes[tenant]
	v.mu.Unlock()
	if ok && now.Sub(c.at) < CacheTTL {
		return c.mode, nil
	}
	mode, err := v.store.ValidationMode(ctx, tenant)
	if err != nil {
		return "", fmt.Errorf("read validation mode: %w", err)
	}
	v.mu.Lock()
	v.modes[tenant] = cachedMode{mode, now}
	v.mu.Unlock()
	return mode, nil
}

// line returns the schema line of (tenant, action), from the cache unless
// fresh is set or the cached one is stale. Versions compiled before are
// reused, since a version never changes.
func (v *Validator) line(ctx context.Context, tenant, action string, fresh bool) (*line, error) {
	now := v.now()
	k := lineKey{tenant, action}
	v.mu.Lock()
	old := v.lines[k]
	v.mu.Unlock()
	if old != nil && !fresh && now.Sub(old.at) < CacheTTL {
		return old, nil
	}
	owner, schemas, err := Line(ctx, v.store, tenant, action)
	if err != nil {
		return nil, err
	}
	l := &line{owner: owner, versions: map[int]*Compiled{}, at: now}
	for _, s := range schemas {
		if old != nil && old.owner == owner && old.versions[s.Version] != nil {
			l.versions[s.Version] = old.versions[s.Version]
			continue
		}
		c, err := Compile(s)
		if err != nil {
			return nil, fmt.Errorf("compile stored schema %s v%d of tenant %q: %w", action, s.Version, owner, err)
		}
		l.versions[s.Version] = c
	}
	v.mu.Lock()
	v.lines[k] = l
	v.mu.Unlock()
	return l, nil
}

// Forget drops what v cached about tenant, so that a change made through
// this node applies to the next event. A change of the platform line
// ("" tenant) drops everything.
func (v *Validator) Forget(tenant string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.modes, tenant)
	for k := range v.lines {
		if tenant == trail.SystemTenant || k.tenant == tenant {
			delete(v.lines, k)
		}
	}
}

// Line returns the schema line that applies to events of (tenant, action):
// its owner (tenant, or "" for the platform line) and its versions, oldest
// first. A tenant's own line replaces the platform line for that action.
func Line(ctx context.Context, s trail.SchemaStore, tenant, action string) (string, []*trail.ActionSchema, error) {
	own, err := s.ActionSchemas(ctx, tenant, action)
	if err != nil || len(own) > 0 || tenant == trail.SystemTenant {
		return tenant, own, err
	}
	platform, err := s.ActionSchemas(ctx, trail.SystemTenant, action)
	return trail.SystemTenant, platform, err
}
