package postgres

import (
	"strconv"
	"strings"

	"github.com/trailhq/trail"
)

// sql returns the page query: each branch cut to one page plus one row,
// the branches merged in page order (a lazy Merge Append, so about one
// page of rows is read in all) and cut again, or with many branches one
// branch query run per branch (lateralSQL). A branch reads each event
// row straight from its index scan; only a branch that must remove
// duplicates (an event with several matching targets) yields keys that
// are then joined to their events by primary key. A page read by keys
// (pagekeys.go) yields only the merged keys.
func (p *plan) sql() (string, []any, error) {
	var a args
	build := p.mergeSQL
	if p.lateral {
		build = p.lateralSQL
	}
	inner, err := build(&a)
	if err != nil {
		return "", nil, err
	}
	if p.byKeys {
		return "SELECT b.t, b.i FROM (" + inner + ") AS b ORDER BY " + p.order("b."), a, nil
	}
	pos, data, from := "b.pos", "b.data", "("+inner+") AS b"
	if p.distinct() {
		pos, data, from = "e.pos", "e.data", from+" JOIN events AS e ON e.id = b.i AND e.occurred_at = b.t"
	}
	cols := pos + ", " + data
	if p.hits {
		// A walk's rows: their data where they meet the narrowing, and
		// every row's key, where the next walk starts.
		cols = pos + ", CASE WHEN b.h THEN " + data + " END, " + p.keyCols("b.")
	}
	return "SELECT " + cols + " FROM " + from + " ORDER BY " + p.order("b."), a, nil
}

// hitSQL returns the check of a walk's narrowing on a row: true without
// one.
func (p *plan) hitSQL(a *args) string {
	if p.tsq == "" {
		return "true"
	}
	return searchCond(a.add(p.tsq), p.tsq)
}

// keyCols returns the columns of the page order: the sort key (k, when
// there is one), t (occurred_at) and i (id).
func (p *plan) keyCols(prefix string) string {
	cols := prefix + "t, " + prefix + "i"
	if p.keyCol != "" {
		cols = prefix + "k, " + cols
	}
	return cols
}

// mergeSQL returns the branches, each cut to a page, merged in page order
// and cut again.
func (p *plan) mergeSQL(a *args) (string, error) {
	parts := make([]string, len(p.branches))
	for i, b := range p.branches {
		s, err := p.cutSQL(b, a)
		if err != nil {
			return "", err
		}
		parts[i] = "(" + s + ")"
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	return strings.Join(parts, " UNION ALL ") + " ORDER BY " + p.order("") + " LIMIT " + p.limit(), nil
}

// lateralSQL returns the branch query run once per branch of the list v
// (tenants, or (tenant, action) pairs), each run cut to a page, and the
// runs' rows sorted and cut to a page: one scan to plan, not one a branch.
func (p *plan) lateralSQL(a *args) (string, error) {
	from, err := p.lateralFrom(a)
	if err != nil {
		return "", err
	}
	return "SELECT b.* FROM " + from + " ORDER BY " + p.order("b.") + " LIMIT " + p.limit(), nil
}

// lateralFrom returns the list of branches v, numbered from 1 in v.n,
// joined to the run b of the branch query for each.
func (p *plan) lateralFrom(a *args) (string, error) {
	first := p.branches[0]
	s, err := p.cutSQL(branch{tenant: first.tenant, action: first.action, lateral: true}, a)
	if err != nil {
		return "", err
	}
	var tenants, actions []string
	for _, b := range p.branches {
		if b.tenant != nil {
			tenants = append(tenants, *b.tenant)
		}
		if b.action != nil {
			actions = append(actions, *b.action)
		}
	}
	var cols, arrays []string
	if tenants != nil {
		cols, arrays = append(cols, "tenant"), append(arrays, a.add(tenants)+"::text[]")
	}
	if actions != nil {
		cols, arrays = append(cols, "action"), append(arrays, a.add(actions)+"::text[]")
	}
	return "unnest(" + strings.Join(arrays, ", ") + ") WITH ORDINALITY AS v(" + strings.Join(cols, ", ") +
		", n) CROSS JOIN LATERAL (" + s + ") AS b", nil
}

// cutSQL returns the query of branch b cut to a page plus one row in page
// order, which steers the planner to an ordered index scan that stops
// early.
func (p *plan) cutSQL(b branch, a *args) (string, error) {
	s, err := p.branchSQL(b, a)
	if err != nil {
		return "", err
	}
	if p.unordered() {
		// No index yields this order: the filter's matches are read
		// by its own index, then sorted (see unordered).
		s = "WITH m AS MATERIALIZED (" + s + ") SELECT * FROM m"
	}
	return s + " ORDER BY " + p.order("") + " LIMIT " + p.branchLimit(), nil
}

// branchLimit is the LIMIT of each branch: a page plus one row, or fewer
// when only a branch's first keys are read (see narrow).
func (p *plan) branchLimit() string {
	if p.firstKeys > 0 {
		return strconv.Itoa(p.firstKeys)
	}
	return p.limit()
}

// limit is a page plus one row. It is written into the SQL, not passed as
// a parameter: a generic plan knows it then, and prefers scans that stop
// early.
func (p *plan) limit() string { return strconv.Itoa(p.q.PageLimit() + 1) }

// distinct reports whether branches must remove duplicate events: a target
// filter without type or id can match several targets of one event.
func (p *plan) distinct() bool {
	return p.target && !p.probe() && (p.q.TargetType == "" || p.q.TargetID == "")
}

// probe reports whether a target type filter (without a target id) is
// checked per event by a lookup in event_targets_by_type, while the index
// of the page's other filter or sort drives the page. A target type is
// rarely selective (a log has few types, and often one names nearly every
// event), so a page of "documents changed by this actor" walks the actor's
// events, not every document's.
func (p *plan) probe() bool {
	return p.target && p.q.TargetID == "" && p.needsEvent() && !p.typeDriven
}

// unordered reports whether no index yields the page in its order: a sort
// by action or actor combined with a filter that selects few events (a
// target, a small target type, an actor name, a trace id or an IP). Such a
// page reads the matches of its filter through the filter's index and
// sorts them, which costs what the filter selects; walking the sort key's
// index instead would read the whole tenant for a rare actor or target.
// An actor type, a filter of few values, keeps the walk of the sort key's
// index, checking each event: a sort of its matches could be most of the
// tenant. An action filter is a branch per (tenant, exact action), each an
// index range in the sort key's order (events_by_action, or
// events_by_action_actor for a sort by actor; for every tenant, a branch
// per exact action of events_by_action_actor_all), and an actor sorted by
// action has events_by_actor_action. A sort that has indexes of its key
// alone (keyOnly) reads an actor's events through the actor's index, and
// few actions' events (actionDriven) through the action index.
func (p *plan) unordered() bool {
	q := p.q
	if p.keyCol == "" {
		return false
	}
	return q.TargetID != "" || p.typeDriven || q.ActorName != "" || q.TraceID != "" || q.IP != "" ||
		p.actionDriven || q.ActorID != "" && p.keyOnly()
}

// order returns the ORDER BY terms over a branch's output columns k (the
// sort key, when there is one), t (occurred_at) and i (id).
func (p *plan) order(prefix string) string {
	dir := ""
	if p.q.Desc {
		dir = " DESC"
	}
	cols := []string{prefix + "t" + dir, prefix + "i" + dir}
	if p.keyCol != "" {
		cols = append([]string{prefix + "k" + dir}, cols...)
	}
	return strings.Join(cols, ", ")
}

// branchSQL returns one index scan, without its ORDER BY and LIMIT. Each
// branch is cut to one page in page order, which steers the planner to an
// ordered index scan that stops early rather than a sort of every match.
func (p *plan) branchSQL(b branch, a *args) (string, error) {
	var where []string
	add := func(cond string) { where = append(where, cond) }
	from, tcol, icol := p.from(b, a, add)
	if b.action != nil {
		add("e.action = " + b.actionSQL(a))
	} else if !p.actions.all() {
		add(p.actions.where("e.action", a))
	}
	p.residual(tcol, a, add)
	if err := p.keyset(tcol, icol, a, add); err != nil {
		return "", err
	}
	if len(where) == 0 {
		where = []string{"true"}
	}
	cols := tcol + " AS t, " + icol + " AS i"
	if p.keyCol != "" {
		cols = p.keyCol + " AS k, " + cols
	}
	if p.hits {
		cols += ", " + p.hitSQL(a) + " AS h"
	}
	if p.distinct() {
		cols = "DISTINCT " + cols
	} else if !p.byKeys && p.firstKeys == 0 {
		cols = "e.pos AS pos, e.data AS data, " + cols
	}
	return "SELECT " + cols + " FROM " + from + " WHERE " + strings.Join(where, " AND "), nil
}

// from returns the FROM clause of branch b, adding its tenant and target
// conditions, and the columns that hold occurred_at and id in the order.
func (p *plan) from(b branch, a *args, add func(string)) (from, tcol, icol string) {
	if p.target && !p.probe() {
		if b.tenant != nil {
			add("g.tenant = " + b.tenantSQL(a))
		}
		switch {
		case p.q.TargetType != "" && p.q.TargetID == "":
			add(typeCond + a.add(p.q.TargetType)) // event_targets_by_type
		case p.q.TargetType != "":
			add("g.type = " + a.add(p.q.TargetType))
		}
		switch {
		case b.tenant == nil && p.q.TargetType != "" && p.q.TargetID != "":
			add(targetCond + a.add(p.q.TargetID)) // event_targets_by_target_all
		case p.q.TargetID != "":
			add("g.id = " + a.add(p.q.TargetID))
		}
		if p.byKeys || p.distinct() && !p.needsEvent() {
			return "event_targets AS g", "g.occurred_at", "g.event_id"
		}
		// The target's index drives the page: each of its entries looks
		// up its event by primary key. The LIMIT keeps the lookup a
		// subquery run per entry, so the join cannot be turned around.
		return "event_targets AS g CROSS JOIN LATERAL (SELECT * FROM events AS x" +
				" WHERE x.id = g.event_id AND x.occurred_at = g.occurred_at LIMIT 1) AS e",
			"g.occurred_at", "g.event_id"
	}
	if b.tenant != nil {
		add("e.tenant = " + b.tenantSQL(a))
	}
	if p.probe() {
		// A scalar subquery with a LIMIT is never made a join: it stays a
		// lookup per event of the driving index.
		add("(SELECT true FROM event_targets AS g WHERE g.tenant = e.tenant AND " + typeCond + a.add(p.q.TargetType) +
			" AND g.occurred_at = e.occurred_at AND g.event_id = e.id LIMIT 1)")
	}
	return "events AS e", "e.occurred_at", "e.id"
}

// typeCond starts the condition on a target's type that only the index
// event_targets_by_type serves (see its migration).
const typeCond = "g.type || '' = "

// targetCond starts the condition on a target's id that only the index
// event_targets_by_target_all serves, for a target's page of every tenant
// (see its migration). On the bare column, a tenant's page of a target
// took that index and filtered it by tenant.
const targetCond = "g.id || '' = "

// needsEvent reports whether a target branch filters or sorts on a column
// of events. When it does not, a branch that removes duplicates reads only
// event_targets, and only the page's events are looked up.
func (p *plan) needsEvent() bool {
	q := p.q
	return p.keyCol != "" || !p.actions.all() || q.Search != nil ||
		q.ActorType != "" || q.ActorID != "" || q.ActorName != "" || q.TraceID != "" || q.IP != ""
}

// residual adds the equality filters and the time range. trace_id and ip
// also repeat their partial index's condition, so the planner may use it.
func (p *plan) residual(tcol string, a *args, add func(string)) {
	q := p.q
	for _, f := range []struct{ col, v string }{
		{"e.actor_type", q.ActorType}, {"e.actor_id", q.ActorID}, {"e.actor_name", q.ActorName},
		{"e.trace_id", q.TraceID}, {"e.ip", q.IP},
	} {
		if f.v != "" {
			add(f.col + " = " + a.add(f.v))
		}
	}
	if q.TraceID != "" {
		add("e.trace_id <> ''")
	}
	if q.IP != "" {
		add("e.ip <> ''")
	}
	if p.tsq != "" && !p.hits {
		add(searchCond(a.add(p.tsq), p.tsq))
	}
	if !q.Since.IsZero() {
		add(tcol + " >= " + a.add(q.Since))
	}
	if !q.Until.IsZero() {
		add(tcol + " < " + a.add(q.Until))
	}
}

// keyset adds the condition "after the cursor" as one row comparison,
// which PostgreSQL turns into an index range.
func (p *plan) keyset(tcol, icol string, a *args, add func(string)) error {
	if p.bound != nil {
		// Not past the page's last key (see narrow).
		op := " <= "
		if p.q.Desc {
			op = " >= "
		}
		add(p.rowCond(tcol, icol, op, *p.bound, a))
	}
	c := p.q.After
	if c == nil {
		return nil
	}
	id, err := parseUUID(c.ID)
	if err != nil {
		return trail.Invalid("cursor", "not a cursor this server issued")
	}
	op := " > "
	if p.q.Desc {
		op = " < "
	}
	add(p.rowCond(tcol, icol, op, rowKey{k: c.Key, t: c.OccurredAt, id: id}, a))
	return nil
}

// rowCond compares the page order's columns with key k.
func (p *plan) rowCond(tcol, icol, op string, k rowKey, a *args) string {
	if p.keyCol == "" {
		return "(" + tcol + ", " + icol + ")" + op + "(" + a.add(k.t) + ", " + a.add(k.id) + ")"
	}
	return "(" + p.keyCol + ", " + tcol + ", " + icol + ")" + op +
		"(" + a.add(k.k) + ", " + a.add(k.t) + ", " + a.add(k.id) + ")"
}
