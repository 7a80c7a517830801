package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/testenv"
)

// searchCases are full-text queries over searchDataset: words, phrases,
// prefixes, fields, boolean operators, non-ASCII text, a word in every
// event and one in a single event.
var searchCases = []string{
	"login",
	"LOGIN",
	"storetest",          // in every event
	"common",             // in most
	"zanzibar",           // in one event
	`"login failed"`,     // a phrase
	`"failed login"`,     // the same words out of order
	`"to zanzibar"`,      // a phrase with a word of one event
	`"shipped zanzibar"`, // that event's words, not in a row
	"log*",
	"actor.name:ada",
	"actor.name:lovelace",
	"metadata.ticket:OPS-1234",
	"metadata.ticket:ops*",
	"metadata:ticket",
	"ip:203.0.113.*",
	"ip:203.0.113.7",
	"target.type:folder",
	"login AND ada",
	"login ada",
	"login OR shared",
	"NOT login",
	"-login",
	"login -ada",
	"(login OR shared) AND NOT actor.id:u2",
	"zoë",
	"ÅNGSTRÖM",
	"東京",
	"nosuchword",
}

// searchDataset appends events with varied text over tenants a, b and the
// system tenant and returns them.
func searchDataset(t *testing.T, s trail.Store) []*trail.Event {
	all := dataset(t, s)
	names := []string{"Ada Lovelace", "Zoë Ångström", "Grace Hopper", "東京 office"}
	var batches []*trail.Batch
	for i := range 60 {
		tenant := []string{"a", "b", ""}[i%3]
		e := ev(tenant, []string{"user.login.failed", "document.shared", "user.login"}[i%3], fmt.Sprint("u", i%4), 40+i/2,
			target([]string{"document", "folder"}[i%2], fmt.Sprint("doc-", i%5)))
		e.Actor.Name = names[i%len(names)]
		e.Context.IP = fmt.Sprint("203.0.113.", i%9)
		e.Context.UserAgent = "storetest/1.0 agent-" + fmt.Sprint(i%3)
		meta := map[string]any{"ticket": fmt.Sprint("OPS-", 1230+i%7), "note": "the common case"}
		if i == 37 {
			meta["note"] = "shipped to zanzibar"
		}
		e.Metadata, _ = json.Marshal(meta)
		all = append(all, e)
		batches = append(batches, batch(e))
	}
	mustAppend(t, s, batches...)
	return all
}

// mustSearch parses a full-text query.
func mustSearch(tb testing.TB, q string) *trail.Search {
	tb.Helper()
	s, err := trail.ParseSearch(q)
	if err != nil {
		tb.Fatalf("ParseSearch(%q): %v", q, err)
	}
	return s
}

// testSearch checks every search case under every sort, both directions
// and two scopes, paging with cursors, against Match over every event.
func testSearch(t *testing.T, open func(t *testing.T) trail.Store) {
	s := open(t)
	all := searchDatasetFresh(t, s)
	for _, text := range searchCases {
		for _, sort := range []string{trail.SortOccurredAt, trail.SortAction, trail.SortActor} {
			for _, desc := range []bool{true, false} {
				for _, scope := range []trail.Scope{{Tenant: "a"}, {All: true}} {
					q := trail.Query{Scope: scope, Sort: sort, Desc: desc, Limit: 5, Search: mustSearch(t, text)}
					t.Run(fmt.Sprintf("%s/%s/desc=%v/all=%v", text, sort, desc, scope.All), func(t *testing.T) {
						wantQuery(t, s, q, all)
					})
				}
			}
		}
		// The key sorts, once each (testSortKeys combines them with
		// every filter): a scope and direction apiece.
		for i, sort := range newSorts {
			q := trail.Query{Scope: trail.Scope{Tenant: "a", All: i%2 == 0}, Sort: sort, Desc: i == 1, Limit: 5, Search: mustSearch(t, text)}
			t.Run(fmt.Sprintf("%s/%s", text, sort), func(t *testing.T) { wantQuery(t, s, q, all) })
		}
	}
}

// searchDatasetFresh is searchDataset with the events as the store reads
// them back.
func searchDatasetFresh(t *testing.T, s trail.Store) []*trail.Event {
	return readBack(t, s, searchDataset(t, s))
}

// testSearchFilters combines a search with every other filter.
func testSearchFilters(t *testing.T, open func(t *testing.T) trail.Store) {
	s := open(t)
	all := searchDatasetFresh(t, s)
	for name, q := range filterCases() {
		for _, text := range []string{"common", "login OR lovelace", "NOT shared"} {
			t.Run(name+"/"+text, func(t *testing.T) {
				q.Scope, q.Limit, q.Desc, q.Search = trail.Scope{Tenant: "b"}, 3, true, mustSearch(t, text)
				wantQuery(t, s, q, all)
			})
		}
	}
}

// testSearchAppended: an event is found as soon as it is appended, before
// any index could have caught up, alone or among many.
func testSearchAppended(t *testing.T, open func(t *testing.T) trail.Store) {
	s := open(t)
	all := searchDatasetFresh(t, s)
	for i := range 3 {
		e := ev("a", "user.login", "u9", 200+i)
		e.Metadata = json.RawMessage(fmt.Sprintf(`{"word":"fresh%d"}`, i))
		mustAppend(t, s, batch(e))
		all = append(all, mustGet(t, s, trail.Scope{All: true}, e.ID))
		q := trail.Query{Scope: trail.Scope{Tenant: "a"}, Desc: true, Search: mustSearch(t, fmt.Sprint("fresh", i))}
		page, err := s.Events(ctx(t), &q)
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(page.Events); !slices.Equal(got, []string{e.ID}) {
			t.Fatalf("search for an event just appended: got %v, want [%s]", got, e.ID)
		}
	}
	q := trail.Query{Scope: trail.Scope{All: true}, Desc: true, Limit: 2, Search: mustSearch(t, "fresh* OR zanzibar")}
	wantQuery(t, s, q, all)
}

// testSearchExport: an export with a search holds what its pages hold.
func testSearchExport(t *testing.T, open func(t *testing.T) trail.Store) {
	s := open(t)
	all := searchDatasetFresh(t, s)
	for _, text := range []string{"common", "lovelace", "NOT login"} {
		for _, sort := range []string{trail.SortOccurredAt, trail.SortActor} {
			q := trail.Query{Scope: trail.Scope{All: true}, Sort: sort, Desc: true, Search: mustSearch(t, text)}
			var got []string
			err := trail.ExportJSON(ctx(t), s, q, func(data []byte) error {
				e, err := trail.DecodeEvent(data)
				if err == nil {
					got = append(got, e.ID)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if want := ids(expected(&q, all)); !slices.Equal(got, want) {
				t.Fatalf("export %q by %s: got %v, want %v", text, sort, got, want)
			}
		}
	}
}

// testSearchDeleted: events that retention deleted are not found, before
// and after an index catches up.
func testSearchDeleted(t *testing.T, open func(t *testing.T) trail.Store) {
	s := open(t)
	var evs []*trail.Event
	for i := range 6 {
		e := ev("acme", "user.login", "u1", i)
		e.Metadata = json.RawMessage(`{"word":"doomed"}`)
		evs = append(evs, e)
	}
	appendEach(t, s, evs...)
	q := trail.Query{Scope: trail.Scope{Tenant: "acme"}, Desc: true, Search: mustSearch(t, "doomed")}
	testenv.Eventually(t, 5*time.Second, "every event found", func() bool {
		p, err := s.Events(ctx(t), &q)
		return err == nil && len(p.Events) == 6
	})
	if _, _, err := s.DeleteEvents(ctx(t), "acme", 0, 4, 10); err != nil {
		t.Fatal(err)
	}
	p, err := s.Events(ctx(t), &q)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(p.Events), []string{evs[5].ID, evs[4].ID}; !slices.Equal(got, want) {
		t.Fatalf("after deleting four events: got %v, want %v", got, want)
	}
}
