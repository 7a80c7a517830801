package storetest

import (
	"fmt"
	"testing"

	"github.com/trailhq/trail"
)

// newSorts are the sorts by a key that not every event has: the actor's
// name, and the first target's type and id.
var newSorts = []string{trail.SortActorName, trail.SortTargetType, trail.SortTargetID}

// sortKeysDataset appends events over tenants a, b and the system tenant
// whose actor names and first targets make every case of the key sorts:
// names that differ in case only, non-ASCII names (byte order), events
// without a name, without targets, with several targets whose later ones
// would sort elsewhere, and ties in key and time. It returns the events
// as the store reads them back.
func sortKeysDataset(t *testing.T, s trail.Store) []*trail.Event {
	names := []string{"Ada", "", "ada", "Émile", "Zed", "Name of u3", ""}
	return readBack(t, s, datasetOf(t, s, 70, func(i int, e *trail.Event) {
		e.Actor.Name = names[i%len(names)]
		switch i % 5 {
		case 0: // no targets
		case 1:
			e.Targets = append(e.Targets, target("document", fmt.Sprint("d", i%4)))
		case 2: // the first target alone decides: the later ones sort first
			e.Targets = append(e.Targets, target("user", fmt.Sprint("u", i%3)), target("document", "d9"), target("aaa", "000"))
		case 3:
			e.Targets = append(e.Targets, target("folder", "d9"), target("document", fmt.Sprint("d", i%4)))
		case 4: // the same first target as some of case 1, to tie on the key
			e.Targets = append(e.Targets, target("document", "d1"), target("user", "u2"))
		}
	}))
}

// testSortKeys pages through each key sort, both ways, with every filter
// and scope, and checks the pages against every event sorted by
// Query.Compare.
func testSortKeys(t *testing.T, open func(t *testing.T) trail.Store) {
	s := open(t)
	all := sortKeysDataset(t, s)
	filters := filterCases()
	filters["Search"] = trail.Query{Search: mustSearch(t, "login OR shared")}
	filters["SearchAndActions"] = trail.Query{Actions: []string{"user.*"}, Search: mustSearch(t, "NOT login")}
	scopes := map[string]trail.Scope{"TenantA": {Tenant: "a"}, "System": {}, "All": {All: true}}
	for _, sort := range newSorts {
		for _, desc := range []bool{false, true} {
			for fname, q := range filters {
				for sname, scope := range scopes {
					q.Scope, q.Sort, q.Desc, q.Limit = scope, sort, desc, 4
					t.Run(fmt.Sprintf("%s/desc=%v/%s/%s", sort, desc, fname, sname), func(t *testing.T) {
						wantQuery(t, s, q, all)
					})
				}
			}
		}
	}
}
