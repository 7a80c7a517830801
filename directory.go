package trail

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ActorEntry is one actor of the directory that stores keep of each
// tenant's actors: what the console's actor picker and GET /v1/actors
// offer. Stores add to it at append and forget an entry when retention
// has deleted the events it came from.
type ActorEntry struct {
	Tenant string `json:"tenant"`
	Type   string `json:"type"`
	ID     string `json:"id"`
	// Name is the name of the actor's latest event (by occurred_at).
	Name string `json:"name"`
	// OtherNames are the other names its events still kept gave it,
	// most recent first: the picker finds an actor by any of them.
	OtherNames []string `json:"other_names,omitempty"`
	// LastSeen is the UTC day of its latest event.
	LastSeen time.Time `json:"last_seen"`
}

// Limits of an actor lookup.
const (
	DefaultActorLimit = 20
	MaxActorLimit     = 100
	maxPrefixLen      = 256
)

// ActorQuery is a lookup in the directory of actors.
type ActorQuery struct {
	Scope Scope
	// Prefix matches the start of an actor's id (exactly) or of one of its
	// names (ignoring case); "" matches every actor.
	Prefix string
	// Limit is how many actors to return, from 1 to MaxActorLimit.
	Limit int
}

// ParseActorQuery reads the prefix and limit parameters of an actor
// lookup; problems name the parameter. Scope is left for the caller.
func ParseActorQuery(prefix, limit string) (*ActorQuery, error) {
	var p Problems
	q := &ActorQuery{Prefix: prefix, Limit: DefaultActorLimit}
	if !utf8.ValidString(prefix) || utf8.RuneCountInString(prefix) > maxPrefixLen || !printable(prefix) {
		p.Add(-1, "prefix", fmt.Sprintf("must be at most %d characters, without control characters", maxPrefixLen))
	}
	if limit != "" {
		n, err := strconv.Atoi(limit)
		if err != nil || n < 1 || n > MaxActorLimit {
			p.Add(-1, "limit", fmt.Sprintf("must be an integer from 1 to %d", MaxActorLimit))
		}
		q.Limit = n
	}
	return q, p.Err()
}

// FoldName is how the directory compares names: in lower case.
func FoldName(name string) string { return strings.ToLower(name) }

// DirectoryDay is the day the directory records for an event that
// occurred at t: whole UTC days since 1970-01-01.
func DirectoryDay(t time.Time) int64 {
	s := t.Unix()
	d := s / 86400
	if s%86400 < 0 {
		d--
	}
	return d
}

// DayTime is the start of directory day d, in UTC.
func DayTime(d int64) time.Time { return time.Unix(d*86400, 0).UTC() }

// TargetActions lists, sorted, the actions of scope that some event
// touching target has: the action filter of an entity's timeline. It reads
// the entity's newest page of events (up to MaxLimit): when that is all of
// them, their actions are the answer. For a larger entity it then asks the
// store, for each action of the scope not on that page, for a one-event
// page with that action and target. Each such page is read from the
// store's indexes and stops at its first event; an action the entity does
// not have costs a walk of the smaller of the two index ranges (the
// entity's, the action's) on the stores of this release.
func TargetActions(ctx context.Context, s EventStore, scope Scope, target Target) ([]string, error) {
	q := &Query{Scope: scope, TargetType: target.Type, TargetID: target.ID, Desc: true, Limit: MaxLimit}
	page, err := s.Events(ctx, q)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, e := range page.Events {
		seen[e.Action] = true
	}
	if page.Next != nil {
		if err := probeActions(ctx, s, q, seen); err != nil {
			return nil, err
		}
	}
	return slices.Sorted(maps.Keys(seen)), nil
}

// probeActions adds to seen each action of q's scope, not in seen yet,
// that q (a target filter) has an event of.
func probeActions(ctx context.Context, s EventStore, q *Query, seen map[string]bool) error {
	actions, err := s.Actions(ctx, q.Scope)
	if err != nil {
		return err
	}
	for _, a := range actions {
		if seen[a] {
			continue
		}
		probe := &Query{Scope: q.Scope, Actions: []string{a}, TargetType: q.TargetType, TargetID: q.TargetID, Limit: 1}
		page, err := s.Events(ctx, probe)
		if err != nil {
			return fmt.Errorf("actions of %s %s: %w", q.TargetType, q.TargetID, err)
		}
		if len(page.Events) > 0 {
			seen[a] = true
		}
	}
	return nil
}
