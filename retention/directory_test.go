package retention_test

import (
	"context"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/teststore"
)

// emitBy appends an event of tenant by actor id named name, daysAgo days
// ago, touching a target of type typ.
func (h *harness) emitBy(tenant, id, name, typ string, daysAgo int) {
	h.t.Helper()
	at := time.Now().Add(-time.Duration(daysAgo) * 24 * time.Hour)
	e := trail.NewSystemEvent(tenant, "doc.read", trail.Actor{Type: "user", ID: id, Name: name}, trail.Context{}, at,
		trail.Target{Type: typ, ID: "x"})
	if err := h.writer.Append(context.Background(), &trail.Batch{Events: []*trail.Event{e}}); err != nil {
		h.t.Fatal(err)
	}
}

// names lists the actors (id=name) and target types of tenant's directory.
func (h *harness) names(tenant string) (actors, types []string) {
	h.t.Helper()
	scope := trail.Scope{Tenant: tenant}
	got, err := h.store.Actors(context.Background(), &trail.ActorQuery{Scope: scope, Prefix: "u", Limit: 10})
	if err != nil {
		h.t.Fatal(err)
	}
	for _, a := range got {
		actors = append(actors, a.ID+"="+a.Name)
		for _, n := range a.OtherNames {
			actors = append(actors, a.ID+"~"+n)
		}
	}
	if types, err = h.store.TargetTypes(context.Background(), scope); err != nil {
		h.t.Fatal(err)
	}
	return actors, types
}

// TestRetentionPrunesDirectory checks that the actors and target types of
// deleted events leave the directory, a former name with them, and that a
// tenant-wide hold keeps them.
func TestRetentionPrunesDirectory(t *testing.T) {
	teststore.ForEach(t, func(t *testing.T, s trail.Store) {
		h := newHarness(t, s)
		for _, tenant := range []string{"acme", "globex"} {
			h.emitBy(tenant, "u_gone", "Gone", "invoice", 400)
			h.emitBy(tenant, "u_kept", "Former name", "invoice", 390)
			h.emitBy(tenant, "u_kept", "Kept", "user", 2)
		}
		hold := &trail.Hold{ID: "h1", Tenant: "globex", Kind: trail.HoldTenant, CreatedAt: time.Now()}
		if err := h.store.CreateHold(context.Background(), hold); err != nil {
			t.Fatal(err)
		}
		h.seal()
		rep := h.run(nil)
		if got := tenantReport(t, rep, "acme").DirectoryPruned; got != 3 {
			t.Errorf("acme directory entries pruned = %d, want 3", got)
		}
		actors, types := h.names("acme")
		if !equal(actors, []string{"u_kept=Kept"}) || !equal(types, []string{"user"}) {
			t.Errorf("acme after retention: actors %v, target types %v; want u_kept=Kept and user", actors, types)
		}
		actors, types = h.names("globex")
		if !equal(actors, []string{"u_gone=Gone", "u_kept=Kept", "u_kept~Former name"}) || !equal(types, []string{"invoice", "user"}) {
			t.Errorf("globex (on hold) after retention: actors %v, target types %v; want all kept", actors, types)
		}
	})
}
