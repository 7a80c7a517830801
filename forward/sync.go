package forward

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/trailhq/trail"
)

// ValidateConfig checks the forwarders of a config file, as Prepare does,
// and that their names are unique. Every problem names its field as
// "forwarders[i].field". fs is not changed.
func ValidateConfig(fs []trail.Forwarder) error {
	var p trail.Problems
	names := map[string]int{}
	for i := range fs {
		f := fs[i]
		prefix := fmt.Sprintf("forwarders[%d].", i)
		if err := Prepare(&f); err != nil {
			var te *trail.Error
			errors.As(err, &te)
			for _, d := range te.Details {
				p.Add(-1, prefix+d.Field, d.Problem)
			}
		}
		if j, dup := names[f.Name]; dup {
			p.Add(-1, prefix+"name", fmt.Sprintf("%q is already the name of forwarders[%d]", f.Name, j))
		}
		names[f.Name] = i
	}
	return p.Err()
}

// Sync makes the store's config-managed forwarders those of the config
// file: it creates the new ones, updates the changed ones (keeping their
// cursors and dead letters) and deletes the ones no longer listed, and
// records each change as an audit event by actor from context c (the
// config file and the node that applies it). A config forwarder without a
// secret keeps the one Trail generated for it before. Every node should
// run with the same forwarders in its config.
func Sync(ctx context.Context, s Store, fs []trail.Forwarder, actor trail.Actor, c trail.Context, now time.Time) error {
	if err := ValidateConfig(fs); err != nil {
		return err
	}
	existing, err := s.Forwarders(ctx, trail.Scope{Tenant: ""})
	if err != nil {
		return fmt.Errorf("sync forwarders: %w", err)
	}
	byName := map[string]*trail.Forwarder{}
	for _, f := range existing {
		byName[f.Name] = f
	}
	audit := func(f *trail.Forwarder, action string, changed []string) *trail.Event {
		return Audit(f, action, changed, actor, c, now)
	}
	var events []*trail.Event
	for i := range fs {
		f := fs[i]
		if f.Name == "" {
			f.Name = DeriveName(&f)
		}
		f.ManagedBy = trail.ManagedByConfig
		e, err := syncOne(ctx, s, f, byName[f.Name], audit, now)
		if err != nil {
			return fmt.Errorf("forwarders[%d] (%s): %w", i, f.Name, err)
		}
		if e != nil {
			events = append(events, e)
		}
		delete(byName, f.Name)
	}
	for _, old := range byName {
		if old.ManagedBy != trail.ManagedByConfig {
			continue
		}
		if err := s.DeleteForwarder(ctx, old.ID); err != nil {
			return fmt.Errorf("delete forwarder %s: %w", old.Name, err)
		}
		events = append(events, audit(old, ActionDeleted, nil))
	}
	if len(events) == 0 {
		return nil
	}
	return s.AppendBatches(ctx, []*trail.Batch{{Events: events}})
}

// syncOne creates or updates config forwarder f and returns the audit
// event of the change, nil when nothing changed.
func syncOne(ctx context.Context, s Store, f trail.Forwarder, old *trail.Forwarder,
	audit func(*trail.Forwarder, string, []string) *trail.Event, now time.Time) (*trail.Event, error) {
	if old == nil {
		created := f
		err := Create(ctx, s, &created, now)
		if err == nil {
			return audit(&created, ActionCreated, nil), nil
		}
		if trail.ErrorCode(err) != trail.ECONFLICT {
			return nil, err
		}
		// Another node starting with the same config created it first.
		if old, err = s.Forwarder(ctx, "", f.Name); err != nil {
			return nil, err
		}
	}
	if old.ManagedBy != trail.ManagedByConfig {
		return nil, trail.Invalid("name", "a forwarder of this name was created through the API; rename one of them")
	}
	if f.Secret == "" {
		f.Secret = old.Secret
	}
	f.PreviousSecret, f.PreviousSecretUntil = old.PreviousSecret, old.PreviousSecretUntil
	if err := Prepare(&f); err != nil {
		return nil, err
	}
	rotate(old, &f, now)
	changed := Changed(old, &f)
	if len(changed) == 0 {
		return nil, nil
	}
	f.ID, f.CreatedAt, f.UpdatedAt = old.ID, old.CreatedAt, trail.NormalTime(now)
	if err := s.UpdateForwarder(ctx, &f); err != nil {
		return nil, err
	}
	return audit(&f, ActionUpdated, changed), nil
}
