package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/trailhq/trail"
)

// actorEvent is an event of tenant by actor (typ, id) named name, days
// after base.
func actorEvent(tenant, typ, id, name string, days int, targets ...trail.Target) *trail.Event {
	e := dayEvent(tenant, days, targets...)
	e.Actor = trail.Actor{Type: typ, ID: id, Name: name}
	return e
}

// lookup runs an actor lookup and returns "type:id=name/other,..." per
// actor, in order.
func lookup(t *testing.T, s trail.Store, scope trail.Scope, prefix string, limit int) []string {
	t.Helper()
	got, err := s.Actors(ctx(t), &trail.ActorQuery{Scope: scope, Prefix: prefix, Limit: limit})
	if err != nil {
		t.Fatalf("Actors(%+v, %q): %v", scope, prefix, err)
	}
	out := []string{}
	for _, a := range got {
		s := fmt.Sprintf("%s:%s:%s=%s", a.Tenant, a.Type, a.ID, a.Name)
		for _, n := range a.OtherNames {
			s += "/" + n
		}
		out = append(out, s)
	}
	return out
}

func testDirectoryActors(t *testing.T, open func(t *testing.T) trail.Store) {
	s := open(t)
	wantEqual(t, "empty store", lookup(t, s, trail.Scope{All: true}, "", 10), []string{})
	appendEach(t, s,
		actorEvent("a", "user", "u_ada", "Ada Lovelace", 1),
		actorEvent("a", "user", "u_ada", "Ada King", 3), // renamed: the latest name is current
		actorEvent("a", "user", "u_ada", "Ada King", 2),
		actorEvent("a", "user", "u_bob", "Bob", 2),
		actorEvent("a", "api_key", "k_ada", "", 2),
		actorEvent("a", "user", "u_ez", "Ézéchiel", 2),
		actorEvent("b", "user", "u_ada", "Ada of b", 2),
		actorEvent("", "system", "retention", "Trail retention", 2),
	)
	// One batch repeating an actor writes it once; a second writes nothing new.
	mustAppend(t, s, batch(actorEvent("a", "user", "u_bob", "Bob", 2), actorEvent("a", "user", "u_bob", "Bob", 1)))
	a := trail.Scope{Tenant: "a"}
	t.Run("ByName", func(t *testing.T) {
		wantEqual(t, "ada", lookup(t, s, a, "ada", 10),
			[]string{"a:user:u_ada=Ada King/Ada Lovelace"})
		wantEqual(t, "former name", lookup(t, s, a, "Ada L", 10),
			[]string{"a:user:u_ada=Ada King/Ada Lovelace"})
		wantEqual(t, "case folded beyond ASCII", lookup(t, s, a, "éZÉ", 10), []string{"a:user:u_ez=Ézéchiel"})
	})
	t.Run("ByID", func(t *testing.T) {
		wantEqual(t, "u_", lookup(t, s, a, "u_", 10),
			[]string{"a:user:u_ada=Ada King/Ada Lovelace", "a:user:u_bob=Bob", "a:user:u_ez=Ézéchiel"})
		wantEqual(t, "ids are exact", lookup(t, s, a, "U_", 10), []string{})
		wantEqual(t, "k_", lookup(t, s, a, "k_ada", 10), []string{"a:api_key:k_ada="})
	})
	t.Run("Scope", func(t *testing.T) {
		wantEqual(t, "a", lookup(t, s, a, "", 10), []string{"a:api_key:k_ada=", "a:user:u_ada=Ada King/Ada Lovelace",
			"a:user:u_bob=Bob", ":system:retention=Trail retention", "a:user:u_ez=Ézéchiel"})
		wantEqual(t, "b", lookup(t, s, trail.Scope{Tenant: "b"}, "ada", 10), []string{"b:user:u_ada=Ada of b"})
		wantEqual(t, "nobody", lookup(t, s, trail.Scope{Tenant: "nobody"}, "u_", 10), []string{})
		wantEqual(t, "all", lookup(t, s, trail.Scope{All: true}, "ada", 10),
			[]string{"a:user:u_ada=Ada King/Ada Lovelace", "b:user:u_ada=Ada of b"})
	})
	t.Run("Limit", func(t *testing.T) {
		wantEqual(t, "limit 2", lookup(t, s, a, "", 2), []string{"a:api_key:k_ada=", "a:user:u_ada=Ada King/Ada Lovelace"})
	})
	t.Run("LastSeen", func(t *testing.T) {
		got, err := s.Actors(ctx(t), &trail.ActorQuery{Scope: a, Prefix: "u_ada", Limit: 1})
		if err != nil || len(got) != 1 {
			t.Fatalf("Actors = %v, %v", got, err)
		}
		wantEqual(t, "last seen", got[0].LastSeen, base.Add(3*day).Truncate(day))
	})
}

func testDirectoryTargetTypes(t *testing.T, open func(t *testing.T) trail.Store) {
	s := open(t)
	got, err := s.TargetTypes(ctx(t), trail.Scope{All: true})
	if err != nil || len(got) != 0 {
		t.Fatalf("TargetTypes of an empty store = %v, %v; want none", got, err)
	}
	appendEach(t, s,
		dayEvent("a", 1, target("user", "u1"), target("document", "d1")),
		dayEvent("a", 2, target("user", "u2")),
		dayEvent("b", 1, target("invoice", "i1")),
		dayEvent("", 1, target("api_key", "k1")),
	)
	for _, tt := range []struct {
		scope trail.Scope
		want  []string
	}{
		{trail.Scope{Tenant: "a"}, []string{"api_key", "document", "user"}},
		{trail.Scope{Tenant: "b"}, []string{"api_key", "invoice"}},
		{trail.Scope{Tenant: "nobody"}, []string{"api_key"}},
		{trail.Scope{All: true}, []string{"api_key", "document", "invoice", "user"}},
	} {
		got, err := s.TargetTypes(ctx(t), tt.scope)
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, fmt.Sprintf("TargetTypes(%+v)", tt.scope), got, tt.want)
	}
}

// testDirectoryPrune checks that pruning forgets what was last seen before
// the cutoff's day, of one tenant, and that an actor seen again after its
// entry went comes back although this process wrote it before.
func testDirectoryPrune(t *testing.T, open func(t *testing.T) trail.Store) {
	s := open(t)
	appendEach(t, s,
		actorEvent("a", "user", "u1", "Old name", 1, target("ticket", "t1")),
		actorEvent("a", "user", "u1", "New name", 5, target("user", "u9")),
		actorEvent("a", "user", "u2", "Gone", 2),
		actorEvent("b", "user", "u3", "Other tenant", 1, target("ticket", "t2")),
	)
	n, err := s.PruneDirectory(ctx(t), "a", base.Add(3*day))
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "entries pruned", n, int64(3)) // two names and a target type
	a := trail.Scope{Tenant: "a"}
	wantEqual(t, "a after prune", lookup(t, s, a, "", 10), []string{"a:user:u1=New name"})
	types, _ := s.TargetTypes(ctx(t), a)
	wantEqual(t, "a's target types", types, []string{"user"})
	wantEqual(t, "b kept", lookup(t, s, trail.Scope{Tenant: "b"}, "", 10), []string{"b:user:u3=Other tenant"})
	// The cutoff's own day stays: some of its events may be younger.
	n, _ = s.PruneDirectory(ctx(t), "a", base.Add(5*day+time.Hour))
	wantEqual(t, "same day pruned", n, int64(0))

	appendEach(t, s, actorEvent("a", "user", "u2", "Gone", 2, target("ticket", "t3")))
	wantEqual(t, "seen again", lookup(t, s, a, "gone", 10), []string{"a:user:u2=Gone"})
	types, _ = s.TargetTypes(ctx(t), a)
	wantEqual(t, "target type seen again", types, []string{"ticket", "user"})
}

// testDirectoryFailedAppend checks that an append that fails leaves
// nothing in the directory, and that the store does not take the failed
// append's actors for known ones.
func testDirectoryFailedAppend(t *testing.T, open func(t *testing.T) trail.Store) {
	s := open(t)
	first := actorEvent("a", "user", "u1", "First", 1)
	mustAppend(t, s, batch(first))
	dupe := actorEvent("a", "user", "u3", "Dupe", 1)
	dupe.ID = first.ID
	if err := s.AppendBatches(ctx(t), []*trail.Batch{batch(actorEvent("a", "user", "u2", "Failed", 1, target("ticket", "t1")), dupe)}); err == nil {
		t.Fatal("AppendBatches with a duplicate event id succeeded")
	}
	wantEqual(t, "after the failure", lookup(t, s, trail.Scope{Tenant: "a"}, "", 10), []string{"a:user:u1=First"})
	mustAppend(t, s, batch(actorEvent("a", "user", "u2", "Failed", 1, target("ticket", "t1"))))
	wantEqual(t, "after the retry", lookup(t, s, trail.Scope{Tenant: "a"}, "", 10), []string{"a:user:u2=Failed", "a:user:u1=First"})
	types, _ := s.TargetTypes(ctx(t), trail.Scope{Tenant: "a"})
	wantEqual(t, "target types after the retry", types, []string{"ticket"})
}

func testTargetActions(t *testing.T, open func(t *testing.T) trail.Store) {
	s := open(t)
	doc := target("document", "d1")
	appendEach(t, s,
		ev("a", "doc.read", "u1", 0, doc),
		ev("a", "doc.shared", "u1", 1, target("user", "u2"), doc),
		ev("a", "doc.deleted", "u1", 2, target("document", "d2")),
		ev("b", "doc.archived", "u1", 3, doc),
		ev("", "system.notice", "sys", 4, doc),
	)
	for _, tt := range []struct {
		scope trail.Scope
		want  []string
	}{
		{trail.Scope{Tenant: "a"}, []string{"doc.read", "doc.shared", "system.notice"}},
		{trail.Scope{Tenant: "b"}, []string{"doc.archived", "system.notice"}},
		{trail.Scope{Tenant: "c"}, []string{"system.notice"}},
	} {
		got, err := trail.TargetActions(ctx(t), s, tt.scope, doc)
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, fmt.Sprintf("TargetActions(%+v)", tt.scope), got, tt.want)
	}
	// An entity of more than a page: its oldest action is found past the
	// newest page.
	big := target("document", "big")
	evs := []*trail.Event{ev("a", "doc.locked", "u1", 10, big)}
	for i := range trail.MaxLimit {
		evs = append(evs, ev("a", "doc.read", "u1", 11+i, big))
	}
	mustAppend(t, s, batch(evs...))
	got, err := trail.TargetActions(ctx(t), s, trail.Scope{Tenant: "a"}, big)
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "TargetActions of a large entity", got, []string{"doc.locked", "doc.read"})
}

// SeedDirectory appends events whose actors and target types the
// directory lists, for a store's test of what its migration backfills:
// append, empty the directory and undo the migration with SQL, reopen,
// then CheckDirectory.
func SeedDirectory(t *testing.T, s trail.Store) {
	t.Helper()
	appendEach(t, s,
		actorEvent("a", "user", "u_ada", "Ada Lovelace", 1, target("document", "d1")),
		actorEvent("a", "user", "u_ada", "Ada King", 3, target("invoice", "i1"), target("document", "d2")),
		actorEvent("b", "api_key", "k_1", "CI key", 2, target("project", "p1")),
	)
}

// CheckDirectory fails t unless s lists what SeedDirectory appended.
func CheckDirectory(t *testing.T, s trail.Store) {
	t.Helper()
	a := trail.Scope{Tenant: "a"}
	wantEqual(t, "actors of a", lookup(t, s, a, "", 10), []string{"a:user:u_ada=Ada King/Ada Lovelace"})
	wantEqual(t, "actors of b", lookup(t, s, trail.Scope{Tenant: "b"}, "ci", 10), []string{"b:api_key:k_1=CI key"})
	got, err := s.Actors(ctx(t), &trail.ActorQuery{Scope: a, Prefix: "u_ada", Limit: 1})
	if err != nil || len(got) != 1 {
		t.Fatalf("Actors = %v, %v", got, err)
	}
	wantEqual(t, "last seen", got[0].LastSeen, base.Add(3*day).Truncate(day))
	types, err := s.TargetTypes(ctx(t), trail.Scope{All: true})
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "target types", types, []string{"document", "invoice", "project"})
}
