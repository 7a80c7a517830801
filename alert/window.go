package alert

import (
	"slices"
	"time"

	"github.com/trailhq/trail"
)

// group is one count of a rule: its key and the entity it is about.
type group struct {
	key     string
	subject *trail.Target
}

// groups returns the groups event e counts in for rule r. A platform rule
// counts each tenant apart, so its keys start with the tenant.
func groups(r *trail.AlertRule, e *trail.Event) []group {
	var gs []group
	switch r.Condition.GroupBy {
	case trail.GroupByActor:
		gs = []group{{"actor:" + e.Actor.Type + "/" + e.Actor.ID, &trail.Target{Type: e.Actor.Type, ID: e.Actor.ID, Name: e.Actor.Name}}}
	case trail.GroupByIP:
		gs = []group{{"ip:" + e.Context.IP, &trail.Target{Type: "ip", ID: e.Context.IP}}}
	case trail.GroupByTarget:
		for _, t := range e.Targets {
			if r.Filter.TargetType != "" && t.Type != r.Filter.TargetType || r.Filter.TargetID != "" && t.ID != r.Filter.TargetID {
				continue
			}
			gs = append(gs, group{"target:" + t.Type + "/" + t.ID, &trail.Target{Type: t.Type, ID: t.ID, Name: t.Name}})
		}
	default:
		gs = []group{{"all", nil}}
	}
	if r.Tenant == trail.SystemTenant {
		for i := range gs {
			gs[i].key = e.Tenant + "|" + gs[i].key
		}
	}
	return gs
}

// count adds event e, received at t, to threshold window w of rule r, and
// reports whether the window now holds Count events within Window. A
// window that fires silences its group until it ends, so that the events
// of one window fire once.
func count(w *trail.AlertWindow, r *trail.AlertRule, e *trail.Event) (fire bool) {
	t := e.ReceivedAt
	if t.Before(w.SilencedUntil) {
		return false
	}
	span := r.Condition.Window.Std()
	keep := 0
	for keep < len(w.Times) && !w.Times[keep].After(t.Add(-span)) {
		keep++
	}
	w.Times, w.EventIDs = w.Times[keep:], w.EventIDs[keep:]
	// Stream order is commit order, and received_at may trail it by a
	// little: keep the times sorted.
	i, _ := slices.BinarySearchFunc(w.Times, t, time.Time.Compare)
	w.Times = slices.Insert(w.Times, i, t)
	w.EventIDs = slices.Insert(w.EventIDs, i, e.ID)
	if n := len(w.Times) - r.Condition.Count; n > 0 {
		w.Times, w.EventIDs = w.Times[n:], w.EventIDs[n:]
	}
	return len(w.Times) == r.Condition.Count && w.Times[len(w.Times)-1].Sub(w.Times[0]) < span
}

// stale reports whether w can neither fire nor silence anything any more
// at now: its newest event is a whole window old.
func stale(w *trail.AlertWindow, r *trail.AlertRule, now time.Time) bool {
	if now.Before(w.SilencedUntil) {
		return false
	}
	return len(w.Times) == 0 || now.Sub(w.Times[len(w.Times)-1]) > r.Condition.Window.Std()
}
