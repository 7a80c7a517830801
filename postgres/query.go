package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/trailhq/trail"
)

// maxBranches bounds how many ordered index scans one page query merges,
// and maxLateral how many branches one scan run per branch (lateralSQL)
// may have. Past them, a query runs as one scan with the tenant or action
// checked per row. Each merged branch adds planning work for every
// partition it may touch; a lateral plan is planned once, whatever the
// number of branches, which are passed as arrays.
const (
	maxBranches = 32
	maxLateral  = 1000
)

// A merge plans each of its branches, and a branch costs the planner every
// partition's indexes: a page of every tenant (about 20 branches) spent 5
// to 80 ms planning on each page connection, for a few milliseconds of
// reading, and again after every ANALYZE, which invalidates cached plans,
// and for every new count of tenants or actions, which is a new statement.
// So past mergeBranches, a page runs its branch query once per branch, as
// a nested loop over the list of branches (lateralSQL): it is planned once
// (about 1 ms), whatever the number of tenants. It reads up to a page from
// each branch where the merge stops after about a page in all, and sorts
// what it read, so it is kept for pages of at most lateralPage events (an
// API or console page; a larger page, or an export's chunk, merges, and
// with more than maxBranches tenants reads one scan with no tenant
// condition). Past maxBranches branches, it reads each branch's first
// keys first, then the page from the few branches that reach it (narrow).
const (
	mergeBranches = 2
	lateralPage   = 100
)

// Events returns one page of events matching q, in q's order.
//
// Every filter index leads with tenant, and PostgreSQL cannot read an IN
// list of tenants in index order, so a page is the merge (UNION ALL under
// ORDER BY ... LIMIT, which the planner runs as a Merge Append) of one
// ordered index scan per visible tenant, or per (tenant, exact action) when
// actions are filtered; past two such branches, one scan run per branch
// (see mergeBranches), and past maxBranches, in two steps (narrow.go). A
// page of every tenant whose filter has an index without tenant reads
// that index instead (everyTenantIndex). A page whose events are scattered
// over the table (a target's or an actor's) merges only their keys, then
// reads the events of those keys with scans that prefetch (pagekeys.go).
func (db *DB) Events(ctx context.Context, q *trail.Query) (*trail.Page, error) {
	// After the database restarts, the page pool's idle connections are
	// dead until it notices, and a page may use several at once. A page
	// only reads, so when the database was unreachable it is read again,
	// planning included, on fresh connections.
	for try := 0; ; try++ {
		evs, err := db.read(ctx, q)
		switch {
		case err == nil:
			return trail.NewPage(q, evs), nil
		case try == 1 || ctx.Err() != nil || !isUnavailable(err):
			return nil, pageErr(err)
		}
		db.pages.Reset()
	}
}

// read reads q's page: by the plan of its filters, or for a search, by
// its candidates (search.go).
func (db *DB) read(ctx context.Context, q *trail.Query) ([]*trail.Event, error) {
	if q.Search != nil {
		return db.searchEvents(ctx, q)
	}
	return db.page(ctx, q)
}

// page plans q and reads its events; a search's narrowing is checked on
// each row, and Match is left to the caller (searchEvents).
func (db *DB) page(ctx context.Context, q *trail.Query) ([]*trail.Event, error) {
	p, err := newPlan(ctx, db.pages, q)
	if err != nil {
		return nil, err
	}
	if p.byKeys {
		return eventsByKeys(ctx, db.pages, p, db.now())
	}
	query, args, err := p.sql()
	if err != nil {
		return nil, err
	}
	return queryEvents(ctx, db.pages, query, args...)
}

func pageErr(err error) error {
	var te *trail.Error
	if errors.As(err, &te) {
		return err
	}
	return fmt.Errorf("list events: %w", wrap(err))
}

// pageSettings are the session settings of the connections that run page
// queries. Planning a query over every monthly partition and its indexes
// costs more than running it, so the plan is made once per connection and
// query shape (a generic plan still skips partitions outside a date range
// when it runs; each branch's literal LIMIT steers it to an ordered index
// scan that stops early). A page reads about a hundred rows, for which
// parallel workers only add latency. A bitmap heap scan, which reads the
// events of a scattered page (pagekeys.go), asks the kernel for up to
// effective_io_concurrency heap pages ahead, so that their reads overlap.
//
// The rest take the plan's shape out of the statistics' hands (see
// docs/storage.md, Query plans). Every page query is written so that one
// index yields its rows in page order (the filter's own index, or the
// driving side of a probe), and PostgreSQL is left no way to read a page
// but an ordered index scan with nested loops: no sorts (one would read
// every match of the filter before the first row), no bitmap scans (they
// lose order), no hash or merge joins, no sequential scans. Where a page
// does need a sort, its query sorts a MATERIALIZED CTE, for which no other
// path exists. random_page_cost near seq_page_cost stops the planner from
// preferring, on heap correlation alone, a scan of the all-tenant time
// index that filters rows by tenant: for a small tenant or the system
// tenant, that scan walks the whole table. JIT compilation is off: a
// plan's cost estimate (which the disabled paths above inflate, and which
// stale statistics can put anywhere) crossing jit_above_cost made
// PostgreSQL compile a page query for 0.5 to 1 s before running it for a
// millisecond. Plans stay generic: under these settings a custom plan
// would choose the same scans, after 2 to 10 ms of planning per page.
var pageSettings = map[string]string{
	"plan_cache_mode":                 "force_generic_plan",
	"max_parallel_workers_per_gather": "0",
	"effective_io_concurrency":        "32",
	"enable_sort":                     "off",
	"enable_incremental_sort":         "off",
	"enable_bitmapscan":               "off",
	"enable_hashjoin":                 "off",
	"enable_mergejoin":                "off",
	"enable_hashagg":                  "off",
	"enable_seqscan":                  "off",
	"random_page_cost":                "1.1",
	"jit":                             "off",
}

// plan is a page query: how it reads targets, its sort key and the index
// scans to merge.
type plan struct {
	q      *trail.Query
	target bool   // read through event_targets
	byKeys bool   // read the page's keys, then its events (see pagekeys.go)
	keyCol string // the sort key column before occurred_at and id, or ""
	// typeDriven: a target type filter with others, whose type is small
	// enough to drive the page (see smallType)
	typeDriven bool
	// actionDriven: an action filter of a sort that has indexes of its
	// key alone (keyOnly), whose actions are few enough to drive the page
	// (see fewActions)
	actionDriven bool
	// noTenant: a page of every tenant read from an index without tenant
	// (see everyTenantIndex), whose branches are exact actions, not
	// (tenant, action) pairs
	noTenant bool
	actions  actionFilter
	branches []branch
	// lateral: the branches are one scan, run once per branch (see
	// lateralSQL), not a merge of a scan each
	lateral bool
	// firstKeys: read only the keys of each branch's first firstKeys
	// rows; bound: read no row past this key (see narrow)
	firstKeys int
	bound     *rowKey
	// tsq: the tsquery that narrows a search, checked on each row read
	// (see searchEvents), or ""
	tsq string
	// hits: every row is read, with tsq's check as its column h and its
	// data only where h holds (see walk)
	hits bool
}

// branch is one ordered index scan: one tenant (nil for every tenant) and,
// when actions are expanded, one exact action. In a lateral plan, the one
// scan takes its tenant and action from the list of branches (v).
type branch struct {
	tenant  *string
	action  *string
	lateral bool
}

// tenantSQL returns b's tenant as a placeholder, or the list's column.
func (b branch) tenantSQL(a *args) string {
	if b.lateral {
		return "v.tenant"
	}
	return a.add(*b.tenant)
}

// actionSQL returns b's action as a placeholder, or the list's column.
func (b branch) actionSQL(a *args) string {
	if b.lateral {
		return "v.action"
	}
	return a.add(*b.action)
}

func newPlan(ctx context.Context, tx querier, q *trail.Query) (*plan, error) {
	p := &plan{q: q, actions: actionFilter{trail.SplitActions(q.Actions)}, target: q.TargetType != "" || q.TargetID != ""}
	if q.Search != nil {
		p.tsq = tsquery(q.Search.IndexExpr())
	}
	p.keyCol = sortColumns[q.SortKey()]
	lateralOK := q.PageLimit() <= lateralPage
	most := maxBranches
	if lateralOK {
		most = maxLateral
	}
	tenants, err := visibleTenants(ctx, tx, q.Scope, most)
	if err != nil {
		return nil, err
	}
	if q.Scope.All && p.timeOnly() {
		// Every tenant's events, in time order: the all-tenant time index
		// has them in one scan, where a merge of one scan per tenant
		// costs a branch per tenant (half the rate of an export).
		tenants = []*string{nil}
	}
	if p.probe() && q.ActorID == "" {
		if p.typeDriven, err = smallType(ctx, tx, q.TargetType, tenants); err != nil {
			return nil, err
		}
	}
	if p.keyOnly() && q.ActorID == "" && !p.actions.all() && !p.unordered() {
		if p.actionDriven, err = fewActions(ctx, tx, p, tenants); err != nil {
			return nil, err
		}
	}
	if q.Scope.All && p.everyTenantIndex() {
		tenants, p.noTenant = []*string{nil}, true
	}
	expand := (!p.target || p.probe()) && q.ActorID == "" && !p.actions.all() && (!p.keyOnly() || p.actionDriven)
	if expand {
		if err := expandActions(ctx, tx, p, tenants, most); err != nil {
			return nil, err
		}
	}
	if len(p.branches) == 0 {
		for _, t := range tenants {
			p.branches = append(p.branches, branch{tenant: t})
		}
	}
	p.byKeys = p.scattered() && tenants[0] != nil
	p.lateral = len(p.branches) > mergeBranches && lateralOK
	if p.lateral && len(p.branches) > maxBranches {
		return p.narrow(ctx, tx)
	}
	return p, nil
}

// timeOnly reports whether p filters on nothing but time, in time order.
func (p *plan) timeOnly() bool {
	q := p.q
	return !p.target && p.actions.all() && p.keyCol == "" && p.q.Search == nil &&
		q.ActorType == "" && q.ActorID == "" && q.ActorName == "" && q.TraceID == "" && q.IP == ""
}

// everyTenantIndex reports whether a page of every tenant has an index of
// its own without the tenant (migrations 21 and 23), which then yields it
// as one ordered range (or one per exact action) that stops after a page:
// a page in time order that filters on a target (type and id), an actor
// or an action, and a page sorted by action or actor, alone or with an
// action filter (events_by_action_all, events_by_actor_all,
// events_by_action_actor_all), unless another of its filters must drive
// it (an actor, a target, or one that unordered sorts). One scan per
// tenant instead costs an index descent per tenant and partition before
// the first row: 12 to 46 ms a first page over 300 tenants, and up to 67
// ms for a sort in two steps (narrow). A target type is checked per event
// (probe) unless it is small enough to drive the page itself
// (typeDriven), whose index leads with tenant.
func (p *plan) everyTenantIndex() bool {
	q := p.q
	switch {
	case p.keyCol != "":
		return q.ActorID == "" && !p.target && !p.unordered()
	case p.typeDriven:
		return false
	case q.TargetID != "":
		return q.TargetType != ""
	}
	return q.ActorID != "" || !p.actions.all()
}

// smallTypeRows is the most index entries of a target type (over the
// visible tenants) for which the type drives a page it is filtered with,
// and of an action filter for which it drives a page of a keyOnly sort.
const smallTypeRows = 1000

// fewActions reports whether p's action filter matches fewer than
// smallTypeRows events of tenants, counted from the action index with a
// cap. A page sorted by a key that has no index paired with the action
// (keyOnly) then reads the actions' events and sorts them (unordered);
// for more, it walks the sort key's index checking each event's action,
// which finds a page soon while the action is common.
func fewActions(ctx context.Context, tx querier, p *plan, tenants []*string) (bool, error) {
	var a args
	where := p.actions.where("e.action", &a)
	if tenants[0] != nil {
		where += " AND e.tenant = ANY(" + a.add(tenantNames(tenants)) + ")"
	}
	return fewer(ctx, tx, "events AS e", where, a)
}

// fewer reports whether fewer than smallTypeRows rows of from meet where,
// reading at most that many.
func fewer(ctx context.Context, tx querier, from, where string, a args) (bool, error) {
	rows, err := tx.Query(ctx, "SELECT count(*) FROM (SELECT 1 FROM "+from+" WHERE "+where+
		" LIMIT "+strconv.Itoa(smallTypeRows)+") AS c", a...)
	if err != nil {
		return false, err
	}
	n, err := pgx.CollectExactlyOneRow(rows, pgx.RowTo[int])
	return n < smallTypeRows, err
}

// tenantNames returns the names of tenants, none of them nil.
func tenantNames(tenants []*string) []string {
	ts := make([]string, len(tenants))
	for i, t := range tenants {
		ts[i] = *t
	}
	return ts
}

// smallType reports whether target type typ has fewer than smallTypeRows
// entries in tenants' events, counted from event_targets_by_type with a
// cap, so that it costs at most that many index entries. A page that
// filters on a type and an action (or sorts) is driven by the action's
// index with a type lookup per event (plan.probe), which is right when the
// type is common, as types mostly are; for a rare type it would walk the
// action's events until a page of the type is found, so a small type
// drives the page itself: each of its entries looks up its event.
func smallType(ctx context.Context, tx querier, typ string, tenants []*string) (bool, error) {
	var a args
	where := typeCond + a.add(typ)
	if tenants[0] != nil {
		where += " AND g.tenant = ANY(" + a.add(tenantNames(tenants)) + ")"
	}
	return fewer(ctx, tx, "event_targets AS g", where, a)
}

// visibleTenants lists the tenants whose index ranges a query of scope
// scans: the reader's tenant and the system tenant, or every tenant with
// events. A nil entry means "no tenant condition", used when there are
// more than most tenants.
func visibleTenants(ctx context.Context, tx querier, scope trail.Scope, most int) ([]*string, error) {
	if !scope.All {
		if scope.Tenant == trail.SystemTenant {
			return []*string{ptr("")}, nil
		}
		return []*string{ptr(scope.Tenant), ptr("")}, nil
	}
	rows, err := tx.Query(ctx, "SELECT tenant FROM tenant_seqs ORDER BY tenant LIMIT $1", most+1)
	if err != nil {
		return nil, err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	if len(names) > most || len(names) == 0 {
		return []*string{nil}, nil
	}
	ts := make([]*string, len(names))
	for i := range names {
		ts[i] = &names[i]
	}
	return ts, nil
}

// expandActions turns the action filter into one branch per visible
// (tenant, exact action) pair that matches it, so that each branch is an
// ordered range of the action index. With more than most pairs it leaves
// the branches empty: one branch per tenant, with the filter checked per
// row.
func expandActions(ctx context.Context, tx querier, p *plan, tenants []*string, most int) error {
	var a args
	var where []string
	tenant := "tenant"
	if p.noTenant {
		// A branch is an exact action of any tenant.
		tenant = "NULL::text"
	}
	if tenants[0] != nil {
		where = append(where, "tenant = ANY("+a.add(tenantNames(tenants))+")")
	}
	where = append(where, p.actions.where("action", &a))
	query := "SELECT DISTINCT " + tenant + ", action FROM event_actions WHERE " + strings.Join(where, " AND ") +
		" ORDER BY 1, 2 LIMIT " + a.add(most+1)
	rows, err := tx.Query(ctx, query, a...)
	if err != nil {
		return err
	}
	pairs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct {
		Tenant *string
		Action string
	}])
	if err != nil || len(pairs) > most {
		return err
	}
	if len(pairs) == 0 {
		// Nothing can match; one branch still runs, and finds nothing.
		p.branches = []branch{{tenant: tenants[0], action: ptr("")}}
		return nil
	}
	for _, pr := range pairs {
		p.branches = append(p.branches, branch{tenant: pr.Tenant, action: ptr(pr.Action)})
	}
	return nil
}

// sortColumns are the sort keys of the sorts by a key, as columns of
// events (alias e); the first target's type and id are copied there at
// append (migration 24).
var sortColumns = map[string]string{
	trail.SortAction:     "e.action",
	trail.SortActor:      "e.actor_id",
	trail.SortActorName:  "e.actor_name",
	trail.SortTargetType: "e.first_target_type",
	trail.SortTargetID:   "e.first_target_id",
}

// keyOnly reports whether p's sort has indexes of its key alone, (tenant,
// key, occurred_at, id) and (key, occurred_at, id), but none that pairs it
// with an action or an actor: a sort by the actor's name or the first
// target. Such a page walks its key's index with an action filter checked
// on each event, and reads an actor's events through the actor's index
// and sorts them (unordered).
func (p *plan) keyOnly() bool {
	switch p.q.SortKey() {
	case trail.SortActorName, trail.SortTargetType, trail.SortTargetID:
		return true
	}
	return false
}

func ptr(s string) *string { return &s }

// args collects the arguments of a query and names their placeholders.
type args []any

// add appends v and returns its placeholder, like $3.
func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// actionFilter is a query's actions as the store filters them.
type actionFilter struct{ trail.ActionSet }

func (f actionFilter) all() bool { return f.Any }

// where returns the filter as a condition on col. A prefix is a range,
// ["user.", "user/"), which an index can serve (the column's collation is
// "C", so the range is byte order).
func (f actionFilter) where(col string, a *args) string {
	var ors []string
	if len(f.Exact) > 0 {
		ors = append(ors, col+" = ANY("+a.add(f.Exact)+")")
	}
	for _, p := range f.Prefixes {
		ors = append(ors, "("+col+" >= "+a.add(p)+" AND "+col+" < "+a.add(trail.PrefixEnd(p))+")")
	}
	return "(" + strings.Join(ors, " OR ") + ")"
}
