package console

import (
	"context"
	"strings"

	"github.com/trailhq/trail"
)

// Free text is not a store filter: the console applies it to events the
// store returns for the other filters. One page request reads at most
// maxTextScan events; when the budget runs out first, the page is short and
// its Next link continues the scan where it stopped.
const (
	maxTextScan  = 10_000
	textScanPage = 500
)

// textPage is one page of a free-text search.
type textPage struct {
	*trail.Page
	scanned int
	partial bool // the scan budget ran out before the page was full
}

// searchText returns up to q's page size of events that match q and text.
func (s *Server) searchText(ctx context.Context, q *trail.Query, text *trail.Search) (*textPage, error) {
	want := q.PageLimit()
	sq := *q
	sq.Limit = textScanPage
	out := &textPage{Page: &trail.Page{}}
	for {
		p, err := s.store.Events(ctx, &sq)
		if err != nil {
			return nil, err
		}
		for _, e := range p.Events {
			out.scanned++
			if !matchText(e, text) {
				continue
			}
			out.Events = append(out.Events, e)
			if len(out.Events) == want {
				out.Next = trail.CursorAfter(q, e)
				return out, nil
			}
		}
		if p.Next == nil {
			return out, nil
		}
		sq.After = p.Next
		if out.scanned >= maxTextScan {
			out.Next, out.partial = p.Next, true
			return out, nil
		}
	}
}

// matchText reports whether e matches the free-text query, when there is
// one.
func matchText(e *trail.Event, text *trail.Search) bool {
	return text == nil || text.Match(e)
}

// matchQuery reports whether e passes q's filters and scope, for events
// the live tail reads straight from the tenant's log.
func matchQuery(q *trail.Query, e *trail.Event) bool {
	switch {
	case !q.Scope.Visible(e.Tenant),
		len(q.Actions) > 0 && !matchAction(q.Actions, e.Action),
		q.ActorType != "" && q.ActorType != e.Actor.Type,
		q.ActorID != "" && q.ActorID != e.Actor.ID,
		q.ActorName != "" && q.ActorName != e.Actor.Name,
		q.TraceID != "" && q.TraceID != e.TraceID,
		q.IP != "" && q.IP != e.Context.IP,
		!q.Since.IsZero() && e.OccurredAt.Before(q.Since),
		!q.Until.IsZero() && !e.OccurredAt.Before(q.Until):
		return false
	}
	if q.TargetType == "" && q.TargetID == "" {
		return true
	}
	for _, t := range e.Targets {
		if (q.TargetType == "" || q.TargetType == t.Type) && (q.TargetID == "" || q.TargetID == t.ID) {
			return true
		}
	}
	return false
}

// matchAction applies the Query's action rules: exact, "prefix.*", or "*".
func matchAction(actions []string, action string) bool {
	for _, a := range actions {
		prefix, wild := strings.CutSuffix(a, ".*")
		switch {
		case a == "*", a == action, wild && strings.HasPrefix(action, prefix+"."):
			return true
		}
	}
	return false
}
