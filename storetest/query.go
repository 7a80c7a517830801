package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
)

// matches is the reference meaning of a query's filters and scope, against
// which stores are checked.
func matches(q *trail.Query, e *trail.Event) bool {
	eq := func(filter, v string) bool { return filter == "" || filter == v }
	return q.Scope.Visible(e.Tenant) && matchesAction(q.Actions, e.Action) &&
		eq(q.ActorType, e.Actor.Type) && eq(q.ActorID, e.Actor.ID) && eq(q.ActorName, e.Actor.Name) &&
		eq(q.TraceID, e.TraceID) && eq(q.IP, e.Context.IP) && matchesTarget(q, e) &&
		(q.Since.IsZero() || !e.OccurredAt.Before(q.Since)) &&
		(q.Until.IsZero() || e.OccurredAt.Before(q.Until)) &&
		(q.Search == nil || q.Search.Match(e))
}

func matchesAction(filter []string, action string) bool {
	if len(filter) == 0 {
		return true
	}
	for _, f := range filter {
		prefix, isPrefix := strings.CutSuffix(f, "*")
		if f == action || isPrefix && strings.HasPrefix(action, prefix) {
			return true
		}
	}
	return false
}

func matchesTarget(q *trail.Query, e *trail.Event) bool {
	if q.TargetType == "" && q.TargetID == "" {
		return true
	}
	for _, t := range e.Targets {
		if (q.TargetType == "" || t.Type == q.TargetType) && (q.TargetID == "" || t.ID == q.TargetID) {
			return true
		}
	}
	return false
}

// expected returns the events of all that q matches, in q's order.
func expected(q *trail.Query, all []*trail.Event) []*trail.Event {
	var out []*trail.Event
	for _, e := range all {
		if matches(q, e) {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, q.Compare)
	return out
}

// listAll pages through q with q.Limit events a page and returns every
// event read, checking each page's size.
func listAll(t *testing.T, s trail.Store, q trail.Query) []*trail.Event {
	t.Helper()
	var all []*trail.Event
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatal("more than 10000 pages: the cursor does not advance")
		}
		page, err := s.Events(ctx(t), &q)
		if err != nil {
			t.Fatalf("Events(%+v): %v", q, err)
		}
		if len(page.Events) > q.PageLimit() || page.Next != nil && len(page.Events) < q.PageLimit() {
			t.Fatalf("page of %d events (next %v) for limit %d", len(page.Events), page.Next, q.PageLimit())
		}
		all = append(all, page.Events...)
		if page.Next == nil {
			return all
		}
		q.After = page.Next
	}
}

// wantQuery pages through q and compares the result with the reference.
func wantQuery(t *testing.T, s trail.Store, q trail.Query, all []*trail.Event) {
	t.Helper()
	got, want := ids(listAll(t, s, q)), ids(expected(&q, all))
	if !slices.Equal(got, want) {
		t.Fatalf("query %s:\ngot  %d events %v\nwant %d events %v", describe(q), len(got), got, len(want), want)
	}
}

func describe(q trail.Query) string {
	q.After = nil
	return fmt.Sprintf("%+v", q)
}

// dataset appends a varied set of events over tenants a and b and system
// events, with ties in time, action and actor, and returns them.
func dataset(t *testing.T, s trail.Store) []*trail.Event {
	return datasetOf(t, s, 90, func(i int, e *trail.Event) {
		e.Targets = append(e.Targets, target("document", fmt.Sprint("d", i%4)), target("user", fmt.Sprint("u", (i+1)%3+1)))
		if i%5 == 0 {
			e.Targets = append(e.Targets, target("document", "d9"), target("folder", "d9"))
		}
	})
}

// datasetOf appends n events over tenants a and b and system events, three
// a second, with actions, actors, actor types, IPs and trace ids in
// rotation, each then shaped by shape (targets, names), and returns them.
func datasetOf(t *testing.T, s trail.Store, n int, shape func(i int, e *trail.Event)) []*trail.Event {
	actions := []string{"user.login", "user.login.failed", "user.created", "document.shared", "users.export"}
	actors := []string{"u1", "u2", "u3"}
	var all []*trail.Event
	var batches []*trail.Batch
	for i := range n {
		tenant := []string{"a", "b", "a", ""}[i%4]
		e := ev(tenant, actions[i%len(actions)], actors[i%len(actors)], i/3)
		e.Actor.Type = []string{trail.ActorUser, trail.ActorAPIKey}[i%2]
		e.Context.IP = []string{"10.0.0.1", "2001:db8::1", "192.0.2.7"}[i%3]
		e.TraceID = fmt.Sprint("trace-", i%6)
		shape(i, e)
		all = append(all, e)
		batches = append(batches, batch(e))
	}
	mustAppend(t, s, batches...)
	return all
}

// readBack returns evs as store s reads them back.
func readBack(t *testing.T, s trail.Store, evs []*trail.Event) []*trail.Event {
	for i, e := range evs {
		evs[i] = mustGet(t, s, trail.Scope{All: true}, e.ID)
	}
	return evs
}

// filterCases are queries (without scope or sort) that exercise every
// filter alone and together.
func filterCases() map[string]trail.Query {
	at := func(sec int) time.Time { return base.Add(time.Duration(sec) * time.Second) }
	return map[string]trail.Query{
		"None":          {},
		"Action":        {Actions: []string{"user.login"}},
		"Actions":       {Actions: []string{"user.created", "document.shared"}},
		"ActionPrefix":  {Actions: []string{"user.*"}},
		"ActionMixed":   {Actions: []string{"user.login.*", "document.shared"}},
		"ActionAny":     {Actions: []string{"*"}},
		"ActionUnknown": {Actions: []string{"no.such"}},
		"ActorType":     {ActorType: trail.ActorAPIKey},
		"ActorID":       {ActorID: "u2"},
		"ActorName":     {ActorName: "Name of u3"},
		"TargetType":    {TargetType: "folder"},
		"TargetID":      {TargetID: "d9"},
		"Target":        {TargetType: "document", TargetID: "d1"},
		"TraceID":       {TraceID: "trace-4"},
		"IP":            {IP: "2001:db8::1"},
		"Since":         {Since: at(10)},
		"Until":         {Until: at(10)},
		"SinceUntil":    {Since: at(5), Until: at(20)},
		"Combined":      {Actions: []string{"user.*"}, ActorID: "u1", Since: at(3)},
		"TargetAndMore": {TargetType: "user", TargetID: "u2", Actions: []string{"user.login"}, IP: "10.0.0.1"},
	}
}

func testFilters(t *testing.T, open func(t *testing.T) trail.Store) {
	s := open(t)
	all := dataset(t, s)
	scopes := map[string]trail.Scope{"TenantA": {Tenant: "a"}, "System": {}, "All": {All: true}}
	for name, q := range filterCases() {
		for sname, scope := range scopes {
			t.Run(name+"/"+sname, func(t *testing.T) {
				q.Scope, q.Limit, q.Desc = scope, 7, true
				wantQuery(t, s, q, all)
			})
		}
	}
}

func testSorts(t *testing.T, open func(t *testing.T) trail.Store) {
	s := open(t)
	all := dataset(t, s)
	filters := []string{"None", "Actions", "ActionPrefix", "ActorID", "Target", "TargetID", "SinceUntil"}
	for _, sort := range []string{trail.SortOccurredAt, trail.SortAction, trail.SortActor} {
		for _, desc := range []bool{false, true} {
			for _, f := range filters {
				for _, scope := range []trail.Scope{{Tenant: "b"}, {All: true}} {
					q := filterCases()[f]
					q.Scope, q.Sort, q.Desc, q.Limit = scope, sort, desc, 4
					t.Run(fmt.Sprintf("%s/desc=%v/%s/all=%v", sort, desc, f, scope.All), func(t *testing.T) {
						wantQuery(t, s, q, all)
					})
				}
			}
		}
	}
	t.Run("DefaultLimit", func(t *testing.T) {
		page, err := s.Events(ctx(t), &trail.Query{Scope: trail.Scope{All: true}})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Events) != len(all) || page.Next != nil {
			t.Fatalf("got %d events, next %v; want all %d and no next page", len(page.Events), page.Next, len(all))
		}
	})
}
