package alert

import (
	"context"
	"fmt"
	"time"

	"github.com/trailhq/trail"
)

// state is the evaluator's view of the stream: its cursor and the window
// of every group of every threshold rule.
type state struct {
	ev      *Evaluator
	cursor  int64 // the last event evaluated
	saved   int64 // the cursor as stored
	savedAt time.Time
	windows map[trail.AlertWindowKey]*trail.AlertWindow
}

// round reads one batch of the stream after the cursor, evaluates every
// rule on it and saves the outcome in one transaction. It returns how many
// events it read.
func (st *state) round(ctx context.Context) (int, error) {
	store := st.ev.cfg.Store
	rules, err := store.AlertRules(ctx, trail.Scope{All: true})
	if err != nil {
		return 0, fmt.Errorf("list alert rules: %w", err)
	}
	events, err := store.StreamEvents(ctx, st.cursor, st.ev.cfg.Batch)
	if err != nil {
		return 0, fmt.Errorf("read stream: %w", err)
	}
	now := st.ev.cfg.Now().UTC()
	p := &trail.AlertProgress{After: st.saved, Cursor: st.cursor}
	changed := map[trail.AlertWindowKey]bool{}
	for _, e := range events {
		for _, r := range rules {
			p.Firings = append(p.Firings, st.apply(r, e, now, changed)...)
		}
		p.Cursor = e.Pos
	}
	// Judge staleness by the stream's clock, so that catching up on a
	// backlog does not drop windows that later events of it complete.
	ref := now
	if len(events) > 0 {
		ref = events[len(events)-1].ReceivedAt
	}
	st.sweep(rules, ref, p, changed)
	st.cursor = p.Cursor
	quiet := len(changed) == 0 && len(p.Firings) == 0 && len(p.Deleted) == 0
	// A cursor that moved only over events that matched nothing may stay
	// unsaved for a while: re-reading those events after a restart changes
	// nothing, and ingest is spared a write per round.
	if p.Cursor == st.saved && quiet || quiet && now.Sub(st.savedAt) < st.ev.cfg.SaveEvery {
		return len(events), nil
	}
	for k := range changed {
		p.Windows = append(p.Windows, st.windows[k])
	}
	if err := store.SaveAlertProgress(ctx, p); err != nil {
		return 0, fmt.Errorf("save alert progress: %w", err)
	}
	st.saved, st.savedAt = p.Cursor, now
	for _, f := range p.Firings {
		st.ev.log.Info("alert fired", "rule", f.RuleID, "tenant", f.Tenant, "group", f.GroupKey, "count", f.Count)
	}
	return len(events), nil
}

// apply evaluates rule r on event e and returns the firings it causes. A
// rule counts only events received after it was created.
func (st *state) apply(r *trail.AlertRule, e *trail.Event, now time.Time, changed map[trail.AlertWindowKey]bool) []*trail.AlertFiring {
	if e.ReceivedAt.Before(r.CreatedAt) || !r.Sees(e) {
		return nil
	}
	if r.Condition.Type == trail.AlertAny {
		subject := &trail.Target{Type: e.Actor.Type, ID: e.Actor.ID, Name: e.Actor.Name}
		return []*trail.AlertFiring{newFiring(r, e.Tenant, "event:"+e.ID, subject, []string{e.ID},
			[]time.Time{e.ReceivedAt}, now)}
	}
	var out []*trail.AlertFiring
	for _, g := range groups(r, e) {
		k := trail.AlertWindowKey{RuleID: r.ID, GroupKey: g.key}
		w := st.windows[k]
		if w == nil {
			w = &trail.AlertWindow{RuleID: r.ID, GroupKey: g.key, Times: []time.Time{}, EventIDs: []string{}}
			st.windows[k] = w
		}
		changed[k] = true
		if !count(w, r, e) {
			continue
		}
		out = append(out, newFiring(r, e.Tenant, g.key, g.subject, w.EventIDs, w.Times, now))
		w.SilencedUntil = w.Times[0].Add(r.Condition.Window.Std())
		w.Times, w.EventIDs = []time.Time{}, []string{}
	}
	return out
}

// sweep forgets the windows of deleted rules and the windows that can no
// longer fire, so that the state stays as small as the active groups.
func (st *state) sweep(rules []*trail.AlertRule, now time.Time, p *trail.AlertProgress, changed map[trail.AlertWindowKey]bool) {
	byID := make(map[string]*trail.AlertRule, len(rules))
	for _, r := range rules {
		byID[r.ID] = r
	}
	for k, w := range st.windows {
		r := byID[k.RuleID]
		if r != nil && r.Condition.Type == trail.AlertThreshold && !stale(w, r, now) {
			continue
		}
		delete(st.windows, k)
		delete(changed, k)
		p.Deleted = append(p.Deleted, k)
	}
}

func newFiring(r *trail.AlertRule, tenant, key string, subject *trail.Target, ids []string, times []time.Time, now time.Time) *trail.AlertFiring {
	return &trail.AlertFiring{
		ID: trail.NewID(now), RuleID: r.ID, Tenant: tenant, GroupKey: key,
		WindowStart: times[0], WindowEnd: times[len(times)-1], Count: len(ids),
		EventIDs: append([]string(nil), ids...), Subject: subject,
		FiredAt: now, AlertEventID: trail.NewID(now), NextAttemptAt: now,
	}
}
