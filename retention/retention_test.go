package retention_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/teststore"
	"github.com/trailhq/trail/ledger"
	"github.com/trailhq/trail/retention"
)

type harness struct {
	t      *testing.T
	store  retention.Store
	writer *trail.Writer
	ledger *ledger.Ledger
	runner *retention.Runner
}

func newHarness(t *testing.T, s trail.Store) *harness {
	rs := s.(retention.Store)
	l := teststore.Ledger(t, rs)
	w := trail.NewWriter(s, 1000, nil)
	t.Cleanup(func() { w.Close() })
	return &harness{t: t, store: rs, writer: w, ledger: l,
		runner: retention.New(retention.Config{Store: rs, Writer: w, Chunk: 2})}
}

// emit appends an event of tenant that occurred daysAgo days ago.
func (h *harness) emit(tenant string, daysAgo int, targets ...trail.Target) *trail.Event {
	h.t.Helper()
	at := time.Now().Add(-time.Duration(daysAgo) * 24 * time.Hour)
	e := trail.NewSystemEvent(tenant, "doc.read", trail.Actor{Type: "user", ID: "u1"}, trail.Context{}, at, targets...)
	e.ReceivedAt = time.Now().UTC()
	if err := h.writer.Append(context.Background(), &trail.Batch{Events: []*trail.Event{e}}); err != nil {
		h.t.Fatal(err)
	}
	return e
}

// seal integrates every stored event into the ledger.
func (h *harness) seal() {
	h.t.Helper()
	teststore.Seal(h.t, h.ledger)
}

func (h *harness) run(tenant *string) *retention.Report {
	h.t.Helper()
	rep, err := h.runner.RunOnce(context.Background(), tenant, nil)
	if err != nil {
		h.t.Fatalf("retention run: %v", err)
	}
	return rep
}

func (h *harness) logIDs(tenant string) []string {
	h.t.Helper()
	evs, err := h.store.LogEvents(context.Background(), tenant, 0, 1000)
	if err != nil {
		h.t.Fatal(err)
	}
	var ids []string
	for _, e := range evs {
		if e.Action != retention.ActionDeleted {
			ids = append(ids, e.ID)
		}
	}
	return ids
}

// verify checks tenant's log with the ledger verifier and returns its
// report, failing on any problem.
func (h *harness) verify(tenant string) *ledger.Report {
	h.t.Helper()
	h.seal()
	rep, err := h.ledger.Verifier().VerifyLog(context.Background(), tenant)
	if err != nil {
		h.t.Fatal(err)
	}
	if !rep.OK() {
		h.t.Fatalf("verifier: %s", rep.Summary())
	}
	return rep
}

func tenantReport(t *testing.T, rep *retention.Report, tenant string) *retention.TenantReport {
	t.Helper()
	for _, tr := range rep.Tenants {
		if tr.Tenant == tenant {
			return tr
		}
	}
	t.Fatalf("no report of tenant %q in %+v", tenant, rep.Tenants)
	return nil
}

func TestRetentionKeepsHoldsAndLedger(t *testing.T) {
	teststore.ForEach(t, func(t *testing.T, s trail.Store) {
		h := newHarness(t, s)
		ctx := context.Background()
		old := []*trail.Event{h.emit("acme", 400), h.emit("acme", 399, trail.Target{Type: "user", ID: "u9"}), h.emit("acme", 398)}
		recent := []*trail.Event{h.emit("acme", 10), h.emit("acme", 1)}
		globex := h.emit("globex", 500)
		hold := &trail.Hold{ID: "h1", Tenant: "acme", Kind: trail.HoldTarget, TargetType: "user", TargetID: "u9", CreatedAt: time.Now()}
		for _, hd := range []*trail.Hold{hold, {ID: "h2", Tenant: "globex", Kind: trail.HoldTenant, CreatedAt: time.Now()}} {
			if err := h.store.CreateHold(ctx, hd); err != nil {
				t.Fatal(err)
			}
		}
		h.seal()
		unsealed := h.emit("acme", 600) // past retention, but not sealed yet
		rep := h.run(nil)
		acme := tenantReport(t, rep, "acme")
		if got, want := [3]int64{acme.Deleted, acme.PrunedTo, acme.NewlyPruned.From}, [3]int64{2, 3, 0}; got != want {
			t.Fatalf("acme (deleted, pruned to, from) = %v, want %v", got, want)
		}
		if !tenantReport(t, rep, "globex").OnHold {
			t.Error("globex is not reported on hold")
		}
		want := []string{old[1].ID, recent[0].ID, recent[1].ID, unsealed.ID}
		if got := h.logIDs("acme"); !equal(got, want) {
			t.Fatalf("acme events after the run = %v, want %v", got, want)
		}
		if got := h.logIDs("globex"); !equal(got, []string{globex.ID}) {
			t.Fatalf("globex events = %v, want its one event", got)
		}
		vrep := h.verify("acme")
		if len(vrep.Pruned) != 1 || vrep.Pruned[0].To != 3 {
			t.Fatalf("verifier pruned ranges = %+v, want [0,3)", vrep.Pruned)
		}
		if _, err := h.store.DeleteHold(ctx, trail.Scope{Tenant: "acme"}, "h1"); err != nil {
			t.Fatal(err)
		}
		acme = tenantReport(t, h.run(ptr("acme")), "acme")
		if acme.Deleted != 1 || acme.NewlyPruned != nil {
			t.Fatalf("after lifting the hold: deleted %d, newly pruned %+v; want 1 and none", acme.Deleted, acme.NewlyPruned)
		}
		h.verify("acme")
		wantRecorded(t, h, "acme", []int64{2, 1})
	})
}

// wantRecorded checks the retention.deleted events of tenant's log.
func wantRecorded(t *testing.T, h *harness, tenant string, deleted []int64) {
	t.Helper()
	page, err := h.store.Events(context.Background(), &trail.Query{Scope: trail.Scope{Tenant: tenant},
		Actions: []string{retention.ActionDeleted}, Sort: trail.SortOccurredAt})
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, e := range page.Events {
		var m struct{ Deleted int64 }
		if err := json.Unmarshal(e.Metadata, &m); err != nil || e.Actor.Type != trail.ActorSystem || e.Tenant != tenant {
			t.Fatalf("bad retention event %+v (%v)", e, err)
		}
		got = append(got, m.Deleted)
	}
	if fmt.Sprint(got) != fmt.Sprint(deleted) {
		t.Fatalf("recorded deletions = %v, want %v", got, deleted)
	}
}

func TestRetentionPolicyAndLogs(t *testing.T) {
	teststore.ForEach(t, func(t *testing.T, s trail.Store) {
		h := newHarness(t, s)
		ctx := context.Background()
		if err := h.store.SetRetentionPolicy(ctx, &trail.RetentionPolicy{Tenant: "acme", Days: 7, UpdatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		h.emit("acme", 8)
		keep := h.emit("acme", 6)
		h.seal()
		now := time.Now().UTC()
		logs := []*trail.LogRecord{
			{ID: trail.NewID(now), Tenant: "acme", TraceID: "t1", Time: now.AddDate(0, 0, -31), Level: "info", ReceivedAt: now},
			{ID: trail.NewID(now), Tenant: "acme", TraceID: "t1", Time: now.AddDate(0, 0, -29), Level: "info", ReceivedAt: now},
		}
		if err := h.store.AppendLogs(ctx, logs); err != nil {
			t.Fatal(err)
		}
		rep := h.run(nil)
		if got := tenantReport(t, rep, "acme"); got.Days != 7 || got.Deleted != 1 {
			t.Fatalf("acme report = %+v, want 7 days and 1 deleted", got)
		}
		if rep.LogsDeleted != 1 {
			t.Fatalf("logs deleted = %d, want 1", rep.LogsDeleted)
		}
		if got := h.logIDs("acme"); !equal(got, []string{keep.ID}) {
			t.Fatalf("acme events = %v, want only the 6-day-old one", got)
		}
		h.verify("acme")
	})
}

func ptr(s string) *string { return &s }

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
