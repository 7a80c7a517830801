package postgres_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/pgtest"
	"github.com/trailhq/trail/postgres"
)

// planCase is a page query and what its plan must show whatever the
// statistics: the index that matches its filter, read in page order.
type planCase struct {
	name   string
	q      trail.Query
	want   []string // patterns every plan must match
	sorted bool     // the query sorts a MATERIALIZED CTE (plan.unordered)
	all    bool     // read with a platform key (every tenant)
	// lateral: one scan run per tenant (or tenant and action), whose rows
	// one top-N sort orders, not a merge of one scan each, planned each
	lateral bool
	asc     bool // oldest first (also the case named Oldest)
	// noTenant: a platform key's page read from an index without tenant
	// (migration 21), one ordered range per exact action, actor or
	// target, never a run per tenant
	noTenant bool
	// fewWhenEmpty: the filter drives the page while it has few events
	// (fewActions), so on the empty store the page is sorted
	fewWhenEmpty bool
}

var planCases = []planCase{
	{name: "Newest", q: trail.Query{},
		want: []string{`Index Scan Backward using events_p\d+_tenant_occurred_at_id_idx`}},
	{name: "EveryTenantNewest", q: trail.Query{}, all: true,
		want: []string{`Index Scan Backward using events_p\d+_occurred_at_id_idx`}},
	{name: "EveryTenantActionOldest", q: trail.Query{Actions: []string{"doc.action3"}}, all: true, noTenant: true, asc: true,
		want: []string{`Index Scan using events_p\d+_action_occurred_at_id_idx`}},
	{name: "EveryTenantActorID", q: trail.Query{ActorID: "user_00042"}, all: true, noTenant: true,
		want: []string{`Index Scan Backward using events_p\d+_actor_id_occurred_at_id_idx`}},
	{name: "EveryTenantRareActor", q: trail.Query{ActorID: "user_19999"}, all: true, noTenant: true,
		want: []string{`Index Scan Backward using events_p\d+_actor_id_occurred_at_id_idx`}},
	{name: "EveryTenantAction", q: trail.Query{Actions: []string{"doc.action3"}}, all: true, noTenant: true,
		want: []string{`Index Scan Backward using events_p\d+_action_occurred_at_id_idx`}},
	{name: "EveryTenantRareAction", q: trail.Query{Actions: []string{"doc.purge"}}, all: true, noTenant: true,
		want: []string{`Index Scan Backward using events_p\d+_action_occurred_at_id_idx`}},
	// An actor's own index drives the page: walking the action's would
	// read every tenant's events of the action for a rare actor.
	{name: "EveryTenantActorAction", q: trail.Query{ActorID: "user_19999", Actions: []string{"doc.action3"}}, all: true, noTenant: true,
		want: []string{`Index Scan Backward using events_p\d+_actor_id_occurred_at_id_idx`}},
	{name: "EveryTenantActions", q: trail.Query{Actions: []string{"doc.action3", "doc.purge"}}, all: true, noTenant: true,
		want: []string{`Merge Append`, `Index Scan Backward using events_p\d+_action_occurred_at_id_idx`}},
	// Eleven actions: one scan run per exact action, sorted once.
	{name: "EveryTenantActionPrefix", q: trail.Query{Actions: []string{"doc.*"}}, all: true, noTenant: true, lateral: true,
		want: []string{`Index Scan Backward using events_p\d+_action_occurred_at_id_idx`}},
	{name: "EveryTenantRareTargetType", q: trail.Query{TargetType: "invoice"}, all: true, lateral: true,
		want: []string{`Index Only Scan Backward using event_targets_p\d+_tenant_expr_occurred_at_event_id_type_idx`}},
	{name: "EveryTenantTargetID", q: trail.Query{TargetID: "doc_000042"}, all: true, lateral: true,
		want: []string{`Index Only Scan Backward using event_targets_p\d+_tenant_id_occurred_at_event_id_idx`}},
	{name: "EveryTenantTarget", q: trail.Query{TargetType: "document", TargetID: "doc_000042"}, all: true, noTenant: true,
		want: []string{`Index Scan Backward using event_targets_p\d+_expr_type_occurred_at_event_id_idx`}},
	{name: "EveryTenantRareTarget", q: trail.Query{TargetType: "document", TargetID: "doc_499999"}, all: true, noTenant: true,
		want: []string{`Index Scan Backward using event_targets_p\d+_expr_type_occurred_at_event_id_idx`}},
	{name: "EveryTenantTargetTypeActor", q: trail.Query{TargetType: "document", ActorID: "user_00042"}, all: true, noTenant: true,
		want: []string{`Index Scan Backward using events_p\d+_actor_id_occurred_at_id_idx`, `SubPlan`}},
	{name: "EveryTenantTargetTypeAction", q: trail.Query{TargetType: "document", Actions: []string{"doc.action3"}}, all: true, noTenant: true,
		want: []string{`Index Scan Backward using events_p\d+_action_occurred_at_id_idx`, `SubPlan`,
			`Index Only Scan using event_targets_p\d+_tenant_expr_occurred_at_event_id_type_idx`}},
	// Sorts of every tenant read the indexes without tenant in their
	// order (migrations 21 and 23), not a run per tenant.
	{name: "EveryTenantSortAction", q: trail.Query{Sort: trail.SortAction}, all: true, noTenant: true,
		want: []string{`Index Scan Backward using events_p\d+_action_occurred_at_id_idx`}},
	{name: "EveryTenantSortActionOldest", q: trail.Query{Sort: trail.SortAction}, all: true, noTenant: true, asc: true,
		want: []string{`Index Scan using events_p\d+_action_occurred_at_id_idx`}},
	{name: "EveryTenantSortActionByActionPrefix", q: trail.Query{Sort: trail.SortAction, Actions: []string{"doc.*"}}, all: true,
		noTenant: true, lateral: true,
		want: []string{`Index Scan Backward using events_p\d+_action_occurred_at_id_idx`}},
	{name: "EveryTenantSortActor", q: trail.Query{Sort: trail.SortActor}, all: true, noTenant: true,
		want: []string{`Index Scan Backward using events_p\d+_actor_id_occurred_at_id_idx`}},
	{name: "EveryTenantSortActionByActor", q: trail.Query{Sort: trail.SortAction, ActorID: "user_00042"}, all: true, lateral: true,
		want: []string{`Index Scan Backward using events_p\d+_tenant_actor_id_action_occurred_at_id_idx`}},
	{name: "Oldest", q: trail.Query{Desc: false},
		want: []string{`Index Scan using events_p\d+_tenant_occurred_at_id_idx`}},
	{name: "Action", q: trail.Query{Actions: []string{"doc.action3"}},
		want: []string{`Index Scan Backward using events_p\d+_tenant_action_occurred_at_id_idx`}},
	{name: "ActionPrefix", q: trail.Query{Actions: []string{"doc.*"}}, lateral: true,
		want: []string{`Index Scan Backward using events_p\d+_tenant_action_occurred_at_id_idx`}},
	{name: "ActorID", q: trail.Query{ActorID: "user_00042"},
		want: []string{`Index Only Scan Backward using events_p\d+_tenant_actor_id_occurred_at_id_idx`,
			`Bitmap Index Scan on events_p\d+_pkey`}},
	{name: "TimeRange", q: trail.Query{Since: time.Now().Add(-2 * time.Hour), Until: time.Now().Add(-time.Hour)},
		want: []string{`Index Scan Backward using events_p\d+_tenant_occurred_at_id_idx`}},
	{name: "SortAction", q: trail.Query{Sort: trail.SortAction},
		want: []string{`Index Scan Backward using events_p\d+_tenant_action_occurred_at_id_idx`}},
	{name: "SortActor", q: trail.Query{Sort: trail.SortActor},
		want: []string{`Index Scan Backward using events_p\d+_tenant_actor_id_occurred_at_id_idx`}},
	// An actor sorted by action has an index of its own (migration 16):
	// before, the page sorted every event of the actor.
	{name: "SortActionByActor", q: trail.Query{Sort: trail.SortAction, ActorID: "user_00042"},
		want: []string{`Index Scan Backward using events_p\d+_tenant_actor_id_action_occurred_at_id_idx`}},
	// A target sorted by action: the target's events, sorted.
	{name: "SortActionByTarget", q: trail.Query{Sort: trail.SortAction, TargetID: "doc_000042"}, sorted: true,
		want: []string{`CTE m`, `Index Only Scan using event_targets_p\d+_tenant_id_occurred_at_event_id_idx`}},
	{name: "EveryTenantSortActionByTarget", q: trail.Query{Sort: trail.SortAction, TargetID: "doc_000042"}, all: true,
		sorted: true, lateral: true,
		want: []string{`CTE m`, `Index Only Scan using event_targets_p\d+_tenant_id_occurred_at_event_id_idx`}},
	// An action sorted by actor has an index of its own (migration 18):
	// before, the page walked the tenant in actor order, checking each
	// event's action, which for a rare action read most of the tenant.
	{name: "SortActorByAction", q: trail.Query{Sort: trail.SortActor, Actions: []string{"doc.action3"}},
		want: []string{`Index Scan Backward using events_p\d+_tenant_action_actor_id_occurred_at_id_idx`}},
	{name: "SortActorByActions", q: trail.Query{Sort: trail.SortActor, Actions: []string{"doc.action3", "doc.action7"}}, lateral: true,
		want: []string{`Index Scan Backward using events_p\d+_tenant_action_actor_id_occurred_at_id_idx`}},
	{name: "SortActorByRareAction", q: trail.Query{Sort: trail.SortActor, Actions: []string{"doc.purge"}},
		want: []string{`Index Scan Backward using events_p\d+_tenant_action_actor_id_occurred_at_id_idx`}},
	// Every tenant's action sorted by actor reads the index without
	// tenant (migration 23), one ordered range per exact action: over 300
	// tenants, a run per tenant cost an index descent each before a row.
	{name: "EveryTenantSortActorByAction", q: trail.Query{Sort: trail.SortActor, Actions: []string{"doc.action3"}}, all: true, noTenant: true,
		want: []string{`Index Scan Backward using events_p\d+_action_actor_id_occurred_at_id_idx`}},
	{name: "EveryTenantSortActorByRareAction", q: trail.Query{Sort: trail.SortActor, Actions: []string{"doc.purge"}}, all: true, noTenant: true,
		want: []string{`Index Scan Backward using events_p\d+_action_actor_id_occurred_at_id_idx`}},
	{name: "EveryTenantSortActorByActionOldest", q: trail.Query{Sort: trail.SortActor, Actions: []string{"doc.action3"}}, all: true,
		noTenant: true, asc: true,
		want: []string{`Index Scan using events_p\d+_action_actor_id_occurred_at_id_idx`}},
	{name: "EveryTenantSortActorByActions", q: trail.Query{Sort: trail.SortActor, Actions: []string{"doc.action3", "doc.purge"}}, all: true,
		noTenant: true,
		want:     []string{`Merge Append`, `Index Scan Backward using events_p\d+_action_actor_id_occurred_at_id_idx`}},
	{name: "EveryTenantSortActorByActionPrefix", q: trail.Query{Sort: trail.SortActor, Actions: []string{"doc.*"}}, all: true,
		noTenant: true, lateral: true,
		want: []string{`Index Scan Backward using events_p\d+_action_actor_id_occurred_at_id_idx`}},
	// An actor's events sorted by actor: the actor's own page, not the
	// action's index.
	{name: "EveryTenantSortActorByActionActor", q: trail.Query{Sort: trail.SortActor, ActorID: "user_00042", Actions: []string{"doc.action3"}},
		all: true, lateral: true},
	// Sorts by the actor's name or the first target (migration 24): a
	// tenant's page walks its key's index, a platform key's the index
	// without tenant. An actor, or a rare action, is read through its own
	// index and sorted; a common action is checked on each event of the
	// walk, which finds a page soon.
	{name: "SortActorName", q: trail.Query{Sort: trail.SortActorName},
		want: []string{`Index Scan Backward using events_p\d+_tenant_actor_name_occurred_at_id_idx`}},
	{name: "SortTargetType", q: trail.Query{Sort: trail.SortTargetType},
		want: []string{`Index Scan Backward using events_p\d+_tenant_first_target_type_occurred_at_id_idx`}},
	{name: "SortTargetIDOldest", q: trail.Query{Sort: trail.SortTargetID}, asc: true,
		want: []string{`Index Scan using events_p\d+_tenant_first_target_id_occurred_at_id_idx`}},
	{name: "EveryTenantSortActorName", q: trail.Query{Sort: trail.SortActorName}, all: true, noTenant: true,
		want: []string{`Index Scan Backward using events_p\d+_actor_name_occurred_at_id_idx`}},
	{name: "EveryTenantSortTargetType", q: trail.Query{Sort: trail.SortTargetType}, all: true, noTenant: true,
		want: []string{`Index Scan Backward using events_p\d+_first_target_type_occurred_at_id_idx`}},
	{name: "EveryTenantSortTargetID", q: trail.Query{Sort: trail.SortTargetID}, all: true, noTenant: true,
		want: []string{`Index Scan Backward using events_p\d+_first_target_id_occurred_at_id_idx`}},
	{name: "SortActorNameByAction", q: trail.Query{Sort: trail.SortActorName, Actions: []string{"doc.action3"}}, fewWhenEmpty: true,
		want: []string{`Index Scan Backward using events_p\d+_tenant_actor_name_occurred_at_id_idx`}},
	{name: "SortTargetTypeByRareAction", q: trail.Query{Sort: trail.SortTargetType, Actions: []string{"doc.purge"}}, sorted: true,
		want: []string{`CTE m`, `Index Scan using events_p\d+_tenant_action_(actor_id_)?occurred_at_id_idx`}},
	{name: "EveryTenantSortTargetIDByRareAction", q: trail.Query{Sort: trail.SortTargetID, Actions: []string{"doc.purge"}}, all: true,
		sorted: true, lateral: true,
		want: []string{`CTE m`, `Index Scan using events_p\d+_tenant_action_(actor_id_)?occurred_at_id_idx`}},
	{name: "SortActorNameByActor", q: trail.Query{Sort: trail.SortActorName, ActorID: "user_00042"}, sorted: true,
		want: []string{`CTE m`, `Index (Only )?Scan using events_p\d+_tenant_actor_id_(action_)?occurred_at_id_idx`}},
	{name: "SortTargetIDByTarget", q: trail.Query{Sort: trail.SortTargetID, TargetID: "doc_000042"}, sorted: true,
		want: []string{`CTE m`, `Index Only Scan using event_targets_p\d+_tenant_id_occurred_at_event_id_idx`}},
	// The entity timeline.
	{name: "Target", q: trail.Query{TargetType: "document", TargetID: "doc_000042"},
		want: []string{`Index (Only )?Scan Backward using event_targets_p\d+_(pkey|tenant_id_occurred_at_event_id_idx)`}},
	{name: "TargetID", q: trail.Query{TargetID: "doc_000042"},
		want: []string{`Index Only Scan Backward using event_targets_p\d+_tenant_id_occurred_at_event_id_idx`}},
	{name: "TargetType", q: trail.Query{TargetType: "invoice"},
		want: []string{`Index Only Scan Backward using event_targets_p\d+_tenant_expr_occurred_at_event_id_type_idx`}},
	{name: "TargetTypeAction", q: trail.Query{TargetType: "document", Actions: []string{"doc.action3"}},
		want: []string{`Index Scan Backward using events_p\d+_tenant_action_occurred_at_id_idx`, `SubPlan`,
			`Index Only Scan using event_targets_p\d+_tenant_expr_occurred_at_event_id_type_idx`}},
	// A rare type drives the page itself (smallType).
	{name: "RareTargetTypeAction", q: trail.Query{TargetType: "invoice", Actions: []string{"doc.action3"}},
		want: []string{`Index Only Scan Backward using event_targets_p\d+_tenant_expr_occurred_at_event_id_type_idx`,
			`Index Scan using events_p\d+_(pkey|occurred_at_id_idx)`}},
	{name: "TargetTypeActor", q: trail.Query{TargetType: "document", ActorID: "user_00042"},
		want: []string{`Index Scan Backward using events_p\d+_tenant_actor_id_occurred_at_id_idx`, `SubPlan`}},
	{name: "TargetAction", q: trail.Query{TargetType: "document", TargetID: "doc_000042", Actions: []string{"doc.action3"}},
		want: []string{`Index (Only )?Scan Backward using event_targets_p\d+_(pkey|tenant_id_occurred_at_event_id_idx)`}},
}

// badNodes are plan nodes no page query may use: each reads every match of
// a filter (or every row) before the page's first row, or loses its order.
var badNodes = regexp.MustCompile(`(?m)(^|->  )(Sort|Incremental Sort|Seq Scan|Hash|HashAggregate|Merge Join)\b|Bitmap Heap Scan on event_targets|JIT:`)

// TestPlanShapes checks the plan of every filter's first page, for a tenant
// key and for a platform key (every tenant), on a store with skewed shapes
// (one hot target type, 20,000 actors, 10 actions, 40 tenants of very
// different sizes), filled through the store's append path: planned on the
// empty store (shapes only), right after ingest with no ANALYZE, and after
// ANALYZE. A plan that depends on statistics picks another index or a sort
// in one of the three, as the page queries did before (the actor's page
// read every event between its oldest and newest key, a target type sorted
// every event of the type, a newest page walked the all-tenant time index).
// A platform key's page must be one scan run per tenant, not a merge of a
// scan each, which the planner plans one by one.
func TestPlanShapes(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a store")
	}
	ctx := context.Background()
	db := MustOpen(t, pgtest.NewDB(t))
	checkPlans(t, db, "EmptyStore", planCases)
	fillSkewed(t, db, 30_000, skewTenant)
	checkPlans(t, db, "NoAnalyze", planCases)
	checkLateralPages(t, db, planCases)
	checkEveryTenantPages(t, db, planCases)
	if _, err := db.Pool().Exec(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}
	checkPlans(t, db, "Analyzed", planCases)
}

// TestPlanShapesManyTenants checks a platform key's pages on a store of
// about 300 tenants (a few big, most tiny: manyTenant), more than a page
// merges: each must still be one scan run per tenant, not one scan of
// every tenant's events that sorts them or filters them by tenant, right
// after ingest and after ANALYZE, and return the events that a page of
// 1,000 (read with no tenant condition) does.
func TestPlanShapesManyTenants(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a store")
	}
	ctx := context.Background()
	db := MustOpen(t, pgtest.NewDB(t))
	fillSkewed(t, db, 30_000, manyTenant)
	var n int
	if err := db.Pool().QueryRow(ctx, "SELECT count(*) FROM tenant_seqs").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n < 250 {
		t.Fatalf("the store has %d tenants, want about %d", n, manyTenants)
	}
	var cases []planCase
	for _, c := range planCases {
		if c.all {
			cases = append(cases, c)
		}
	}
	checkPlans(t, db, "NoAnalyze", cases)
	checkLateralPages(t, db, cases)
	checkEveryTenantPages(t, db, cases)
	if _, err := db.Pool().Exec(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}
	checkPlans(t, db, "Analyzed", cases)
}

var timeAll = regexp.MustCompile(`using events_p\d+_occurred_at_id_idx .* rows=[1-9]`)

// walksTimeAll reports whether a tenant's page reads rows from the
// all-tenant time index, filtering them by tenant: for a small tenant that
// walks every tenant's events. Partitions that ANALYZE found empty (the
// months ahead) may be planned so; they hold nothing to walk, and the first
// analysis after their first 50 rows (autovacuum's) plans them again.
func walksTimeAll(plan string) bool { return timeAll.MatchString(plan) }

func checkPlans(t *testing.T, db *postgres.DB, phase string, cases []planCase) {
	t.Run(phase, func(t *testing.T) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				q := c.q
				q.Scope, q.Limit = trail.Scope{Tenant: "org00", All: c.all}, 50
				q.Desc = c.name != "Oldest" && !c.asc
				plan, err := db.Explain(context.Background(), &q)
				if err != nil {
					t.Fatal(err)
				}
				checkPlan(t, c, plan, phase == "EmptyStore")
			})
		}
	})
}

func checkPlan(t *testing.T, c planCase, plan string, empty bool) {
	t.Helper()
	if (c.lateral || c.noTenant) && empty && c.all {
		// No tenant has events, so a platform key's page has no
		// tenant to run its scan for, and reads the indexes with no
		// tenant condition (which may sort what it finds: nothing;
		// every target type is small then, and drives the page).
		// That statement is never run again once a tenant has
		// events: its page query is another one.
		return
	}
	if c.lateral && !empty {
		if plan = withoutLateralSort(plan); !strings.Contains(plan, "Top-N of the runs") {
			t.Errorf("want one scan run per branch (a Function Scan under a Nested Loop, sorted once); plan:\n%s", plan)
		}
	}
	if c.noTenant && tenantRange.MatchString(plan) {
		t.Errorf("want a read of an index without tenant, not one run per tenant; plan:\n%s", plan)
	}
	if c.sorted || empty && c.fewWhenEmpty {
		// The sort of the CTE is the only one.
		if n := strings.Count(plan, "Sort Key: m"); n == 0 || strings.Contains(plan, "Seq Scan") {
			t.Errorf("want a sort of the filter's CTE and no sequential scans; plan:\n%s", plan)
		}
	} else if m := badNodes.FindString(plan); m != "" {
		t.Errorf("plan uses %q; plan:\n%s", m, plan)
	}
	if empty {
		// On empty partitions every index costs the same, and a
		// filter may be read from a sibling index (actor_name for
		// actor_id); autovacuum's first ANALYZE of a partition, after
		// 50 rows, makes every cached plan that reads it plan again.
		// What must hold from the start is the shape checked above.
		return
	}
	if !c.all && c.q.TargetType == "" && c.q.TargetID == "" && walksTimeAll(plan) {
		t.Errorf("plan reads the all-tenant time index for a tenant's page; plan:\n%s", plan)
	}
	for _, w := range c.want {
		if !regexp.MustCompile(w).MatchString(plan) {
			t.Errorf("plan does not match %q; plan:\n%s", w, plan)
		}
	}
}

// tenantRange matches an index condition on one tenant, of a scan run per
// tenant or of a merge of one scan each.
var tenantRange = regexp.MustCompile(`Cond: \(+tenant = (v\.tenant|\$\d+)`)

// withoutLateralSort returns plan with the sort of a lateral page's runs
// (the Sort right above the Nested Loop over the list of branches) named
// "Top-N of the runs", so that badNodes does not count it. It sorts at
// most a page from each branch. Any other sort stays.
func withoutLateralSort(plan string) string {
	i := strings.Index(plan, "->  Nested Loop")
	j := strings.Index(plan, "->  Function Scan on ")
	if i < 0 || j < i {
		return plan
	}
	k := strings.LastIndex(plan[:i], "Sort (")
	if k < 0 || strings.Contains(plan[k:i], "->") {
		return plan
	}
	return plan[:k] + "Top-N of the runs" + plan[k+len("Sort"):]
}

// checkLateralPages checks that each platform key's page read as one scan
// per tenant (lateralSQL), and the page after it, are the events that the
// merge of one scan per tenant returns: a page of 1,000 events, too many
// rows for the lateral plan, merges.
func checkLateralPages(t *testing.T, db *postgres.DB, cases []planCase) {
	t.Run("LateralMatchesMerge", func(t *testing.T) {
		for _, c := range cases {
			if !c.lateral {
				continue
			}
			t.Run(c.name, func(t *testing.T) {
				q := c.q
				q.Scope, q.Desc = trail.Scope{Tenant: "org00", All: c.all}, !c.asc
				q.Limit = trail.MaxLimit
				merged := pageIDs(t, db, q)
				q.Limit = 50
				got := pageIDs(t, db, q)
				if len(got) != min(len(merged), 50) {
					t.Errorf("a page of 50 has %d events, of %d that match", len(got), len(merged))
				}
				first, err := db.Events(context.Background(), &q)
				if err != nil {
					t.Fatal(err)
				}
				if first.Next != nil {
					q.After = first.Next
					got = append(got, pageIDs(t, db, q)...)
				}
				want := merged[:min(len(merged), len(got))]
				if len(got) == 0 || strings.Join(got, " ") != strings.Join(want, " ") {
					t.Errorf("lateral pages (%d events) differ from the merged page (%d events)", len(got), len(merged))
				}
			})
		}
	})
}

func pageIDs(t *testing.T, db *postgres.DB, q trail.Query) []string {
	t.Helper()
	p, err := db.Events(context.Background(), &q)
	if err != nil {
		t.Fatal(err)
	}
	return idsOf(p.Events)
}

// checkEveryTenantPages checks that each platform key's page read from an
// index without tenant, and the page after it, are the newest (or oldest)
// of the events that every tenant's own pages (their own indexes, the
// system tenant's events included) return.
func checkEveryTenantPages(t *testing.T, db *postgres.DB, cases []planCase) {
	t.Run("EveryTenantMatchesTenants", func(t *testing.T) {
		ctx := context.Background()
		rows, err := db.Pool().Query(ctx, "SELECT tenant FROM tenant_seqs")
		if err != nil {
			t.Fatal(err)
		}
		tenants, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			if !c.noTenant {
				continue
			}
			t.Run(c.name, func(t *testing.T) {
				q := c.q
				q.Scope, q.Desc, q.Limit = trail.Scope{All: true}, !c.asc, 50
				first, err := db.Events(ctx, &q)
				if err != nil {
					t.Fatal(err)
				}
				got := idsOf(first.Events)
				if first.Next != nil {
					q.After = first.Next
					got = append(got, pageIDs(t, db, q)...)
				}
				want := tenantsPages(t, db, c.q, !c.asc, tenants, 100)
				if strings.Join(got, " ") != strings.Join(want, " ") {
					t.Errorf("two pages of every tenant have %d events, unlike every tenant's own pages (%d):\ngot  %v\nwant %v",
						len(got), len(want), got, want)
				}
			})
		}
	})
}

// tenantsPages returns the first n events, in page order (Query.Compare), of the pages of q that each of tenants reads on its own.
func tenantsPages(t *testing.T, db *postgres.DB, q trail.Query, desc bool, tenants []string, n int) []string {
	t.Helper()
	seen := map[string]bool{}
	var evs []*trail.Event
	for _, tenant := range tenants {
		q.Scope, q.Desc, q.Limit = trail.Scope{Tenant: tenant}, desc, n
		p, err := db.Events(context.Background(), &q)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Events {
			if !seen[e.ID] {
				seen[e.ID] = true
				evs = append(evs, e)
			}
		}
	}
	slices.SortFunc(evs, q.Compare)
	return idsOf(evs[:min(n, len(evs))])
}

func idsOf(evs []*trail.Event) []string {
	ids := make([]string, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
	}
	return ids
}
