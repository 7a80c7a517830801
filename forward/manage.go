package forward

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/trailhq/trail"
)

// Audit actions recorded when forwarders change.
const (
	ActionCreated  = "forwarder.created"
	ActionUpdated  = "forwarder.updated"
	ActionDeleted  = "forwarder.deleted"
	ActionReplayed = "forwarder.dead_letters_replayed"
)

// Create prepares f (see Prepare) and stores it as a new forwarder of
// f.Tenant. Its cursor starts at the stream's head, or at its beginning
// when f.Start is StartBeginning. ManagedBy defaults to ManagedByAPI.
func Create(ctx context.Context, s trail.ForwarderStore, f *trail.Forwarder, now time.Time) error {
	if err := Prepare(f); err != nil {
		return err
	}
	now = trail.NormalTime(now)
	f.ID, f.CreatedAt, f.UpdatedAt = trail.NewID(now), now, now
	if f.ManagedBy == "" {
		f.ManagedBy = trail.ManagedByAPI
	}
	var cursor int64
	if f.Start == trail.StartNow {
		head, err := s.StreamHead(ctx)
		if err != nil {
			return fmt.Errorf("create forwarder: %w", err)
		}
		cursor = head
	}
	return s.CreateForwarder(ctx, f, cursor)
}

// immutable are the fields a PATCH may not change.
var immutable = []string{"id", "tenant", "name", "kind", "managed_by", "created_at", "updated_at", "status", "start",
	"previous_secret_until"}

// Patch applies a JSON merge patch (RFC 7396) to f's settings and returns
// the prepared result, with UpdatedAt set to now; f is not changed. A
// null removes a setting, so {"secret": null} makes a new signing secret.
// Name, kind and the fields Trail sets cannot change.
func Patch(f *trail.Forwarder, patch []byte, now time.Time) (*trail.Forwarder, error) {
	var changes map[string]any
	if err := json.Unmarshal(patch, &changes); err != nil || changes == nil {
		return nil, trail.Invalid("body", "must be a JSON object of the settings to change")
	}
	for _, k := range immutable {
		if _, ok := changes[k]; ok {
			return nil, trail.Invalid(k, "cannot be changed; delete the forwarder and create a new one")
		}
	}
	if v, ok := changes["previous_secret"]; ok {
		if v != nil {
			return nil, trail.Invalid("previous_secret", "can only be null, which stops signing with the previous secret now")
		}
		changes["previous_secret_until"] = nil
	}
	cur, err := json.Marshal(settings(f))
	if err != nil {
		return nil, fmt.Errorf("patch forwarder: %w", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(cur, &doc); err != nil {
		return nil, fmt.Errorf("patch forwarder: %w", err)
	}
	merged, err := json.Marshal(mergePatch(doc, changes))
	if err != nil {
		return nil, fmt.Errorf("patch forwarder: %w", err)
	}
	next, err := decodeForwarder(merged)
	if err != nil {
		return nil, err
	}
	next.ID, next.Tenant, next.Name, next.Kind, next.ManagedBy = f.ID, f.Tenant, f.Name, f.Kind, f.ManagedBy
	next.CreatedAt, next.UpdatedAt, next.Start = f.CreatedAt, trail.NormalTime(now), f.Start
	if err := Prepare(next); err != nil {
		return nil, err
	}
	rotate(f, next, now)
	return next, nil
}

// rotate keeps the signing secret that next replaces as its previous one
// for next's grace period, so that receivers still verifying with it keep
// accepting deliveries while they switch.
func rotate(old, next *trail.Forwarder, now time.Time) {
	if old.Secret != "" && next.Secret != old.Secret {
		next.PreviousSecret = old.Secret
		next.PreviousSecretUntil = now.UTC().Add(next.SecretGrace.Std()).Truncate(time.Second)
	}
	if next.PreviousSecret == "" {
		next.PreviousSecretUntil = time.Time{}
	}
}

// settings returns a copy of f without what Trail sets, for comparing and
// patching.
func settings(f *trail.Forwarder) *trail.Forwarder {
	c := *f
	c.ID, c.Tenant, c.ManagedBy, c.Status, c.Start = "", "", "", nil, ""
	c.CreatedAt, c.UpdatedAt = time.Time{}, time.Time{}
	return &c
}

// mergePatch applies an RFC 7396 merge patch to doc.
func mergePatch(doc, patch map[string]any) map[string]any {
	for k, v := range patch {
		switch pv := v.(type) {
		case nil:
			delete(doc, k)
		case map[string]any:
			sub, _ := doc[k].(map[string]any)
			if sub == nil {
				sub = map[string]any{}
			}
			doc[k] = mergePatch(sub, pv)
		default:
			doc[k] = v
		}
	}
	return doc
}

// decodeForwarder decodes forwarder settings, rejecting unknown fields and
// naming the field of a wrongly typed value.
func decodeForwarder(b []byte) (*trail.Forwarder, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f trail.Forwarder
	err := dec.Decode(&f)
	var ute *json.UnmarshalTypeError
	var te *trail.Error
	switch {
	case err == nil:
		return &f, nil
	case errors.As(err, &ute):
		return nil, trail.Invalid(ute.Field, "must be a JSON "+ute.Value+" of another type")
	case errors.As(err, &te):
		return nil, trail.Invalid("body", te.Message)
	default:
		return nil, trail.Invalid("body", err.Error())
	}
}

// Audit returns the audit event recorded when actor changes f: action is
// one of the Action constants, and changed lists the settings an update
// changed. Its metadata holds no setting's value, so no secret.
func Audit(f *trail.Forwarder, action string, changed []string, actor trail.Actor, ctx trail.Context, now time.Time) *trail.Event {
	e := trail.NewSystemEvent(trail.AuditLog(f.Tenant), action, actor, ctx, now,
		trail.Target{Type: "forwarder", ID: f.ID, Name: f.Name})
	meta := map[string]any{"kind": f.Kind, "managed_by": f.ManagedBy}
	if len(changed) > 0 {
		meta["changed"] = changed
	}
	e.Metadata, _ = json.Marshal(meta)
	return e
}

// Changed lists the top-level settings (uri, token, filter, ...) that
// differ between a and b, sorted.
func Changed(a, b *trail.Forwarder) []string {
	am, bm := settingsMap(a), settingsMap(b)
	var out []string
	for k := range am {
		if _, ok := bm[k]; !ok {
			out = append(out, k)
		}
	}
	for k, v := range bm {
		if !bytes.Equal(am[k], v) {
			out = append(out, k)
		}
	}
	// The previous secret follows the secret: a rotation changes "secret".
	rotated := slices.Contains(out, "secret")
	out = slices.DeleteFunc(out, func(k string) bool {
		return k == "previous_secret_until" || k == "previous_secret" && rotated
	})
	slices.Sort(out)
	return out
}

func settingsMap(f *trail.Forwarder) map[string]json.RawMessage {
	b, _ := json.Marshal(settings(f))
	var m map[string]json.RawMessage
	json.Unmarshal(b, &m)
	return m
}
