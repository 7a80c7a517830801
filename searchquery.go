package trail

import (
	"context"
	"errors"
	"strings"
)

// searchProblem is the problem ParseSearch found, for a Problems list.
func searchProblem(err error) string {
	var e *Error
	if errors.As(err, &e) && len(e.Details) == 1 {
		return e.Details[0].Problem
	}
	return "not a search this server can read"
}

// Keeps reports whether e passes q's scope, filters and search, as a
// store's read would: not the cursor (see Follows). Stores and the
// console's live tail use it where they check events one by one.
func (q *Query) Keeps(e *Event) bool {
	a := SplitActions(q.Actions)
	switch {
	case !q.Scope.Visible(e.Tenant),
		!a.Any && !a.matches(e.Action),
		q.ActorType != "" && q.ActorType != e.Actor.Type,
		q.ActorID != "" && q.ActorID != e.Actor.ID,
		q.ActorName != "" && q.ActorName != e.Actor.Name,
		q.TraceID != "" && q.TraceID != e.TraceID,
		q.IP != "" && q.IP != e.Context.IP,
		!q.Since.IsZero() && e.OccurredAt.Before(q.Since),
		!q.Until.IsZero() && !e.OccurredAt.Before(q.Until),
		!q.keepsTarget(e),
		q.Search != nil && !q.Search.Match(e):
		return false
	}
	return true
}

func (a ActionSet) matches(action string) bool {
	for _, x := range a.Exact {
		if x == action {
			return true
		}
	}
	for _, p := range a.Prefixes {
		if strings.HasPrefix(action, p) {
			return true
		}
	}
	return false
}

func (q *Query) keepsTarget(e *Event) bool {
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

// Compare orders two events as q's pages list them: negative when a comes
// first.
func (q *Query) Compare(a, b *Event) int {
	return q.compareKeys(q.sortKeyOf(a), a.OccurredAt.UnixMicro(), a.ID, CursorAfter(q, b))
}

// Follows reports whether e comes after q.After in q's order (always, on
// the first page).
func (q *Query) Follows(e *Event) bool {
	if q.After == nil {
		return true
	}
	return q.compareKeys(q.sortKeyOf(e), e.OccurredAt.UnixMicro(), e.ID, q.After) > 0
}

func (q *Query) sortKeyOf(e *Event) string { return SortKeyOf(q.sort(), e) }

// compareKeys compares (key, t, id) with the position c names, in q's
// direction.
func (q *Query) compareKeys(key string, t int64, id string, c *Cursor) int {
	n := strings.Compare(key, c.Key)
	if n == 0 {
		n = cmpInt(t, c.OccurredAt.UnixMicro())
	}
	if n == 0 {
		n = strings.Compare(id, c.ID)
	}
	if q.Desc {
		return -n
	}
	return n
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// searchScanChunk is how many events a scanning search reads per page of
// the other filters.
const searchScanChunk = 1000

// ScanSearch answers a query with a Search by reading the pages of its
// other filters through read and keeping the events Search matches: up to
// q.PageLimit()+1 events in q's order (NewPage makes the page), exact for
// every sort, direction and cursor, and as slow as the events the filters
// select. With budget > 0 it reads about that many events at most and
// reports done false when it stopped before it knew the page: a store
// tries a short scan first (a common word fills a page at once), then its
// index. Stores use it where no index narrows the search.
func ScanSearch(ctx context.Context, q *Query, budget int, read func(context.Context, *Query) (*Page, error)) (evs []*Event, done bool, err error) {
	want := q.PageLimit() + 1
	sq := *q
	sq.Search, sq.Limit = nil, searchScanChunk
	if budget > 0 {
		sq.Limit = min(budget, searchScanChunk)
	}
	scanned := 0
	for {
		p, err := read(ctx, &sq)
		if err != nil {
			return nil, false, err
		}
		for _, e := range p.Events {
			if q.Search.Match(e) {
				if evs = append(evs, e); len(evs) == want {
					return evs, true, nil
				}
			}
		}
		if p.Next == nil {
			return evs, true, nil
		}
		if scanned += len(p.Events); budget > 0 && scanned >= budget {
			return nil, false, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		sq.After = p.Next
	}
}
