package sqlite

import (
	"strings"

	"github.com/trailhq/trail"
)

// sql returns the query of arms merged in page order (SQLite runs each arm
// as a coroutine over its index and pulls rows only as the merge needs
// them), limited to one page plus one row. Its rows are (pos, [k,] t, i).
// It returns "" when no arm can hold an event after the cursor.
func (p *plan) sql(arms []arm) (string, []any) {
	var parts []string
	var args []any
	for _, a := range arms {
		s, aa, ok := p.armSQL(a)
		if ok {
			parts, args = append(parts, s), append(args, aa...)
		}
	}
	if len(parts) == 0 {
		return "", nil
	}
	return strings.Join(parts, " UNION ALL ") + " ORDER BY " + p.order() + " LIMIT ?", append(args, p.q.PageLimit()+1)
}

// order returns the ORDER BY terms over an arm's output columns k (the
// sort key, when there is one), t (occurred_at) and i (id).
func (p *plan) order() string {
	dir := ""
	if p.q.Desc {
		dir = " DESC"
	}
	cols := []string{"t" + dir, "i" + dir}
	if p.keyCol != "" {
		cols = append([]string{"k" + dir}, cols...)
	}
	return strings.Join(cols, ", ")
}

// conds collects the WHERE conditions of an arm and their arguments.
type conds struct {
	where []string
	args  []any
	usesE bool // some condition reads the events table
}

func (c *conds) add(cond string, args ...any) {
	c.where, c.args = append(c.where, cond), append(c.args, args...)
}

// addE adds a condition on the events table (alias e).
func (c *conds) addE(cond string, args ...any) {
	c.add(cond, args...)
	c.usesE = true
}

// armSQL returns one scan, whose order the compound ORDER BY gives, or
// ok=false when the cursor is past everything the arm could return.
func (p *plan) armSQL(a arm) (query string, args []any, ok bool) {
	var c conds
	from, pos, tcol, icol := p.from(a, &c)
	p.residual(tcol, &c)
	if !p.keyset(a, tcol, icol, &c) {
		return "", nil, false
	}
	if a.seg >= 0 && (c.usesE || p.joinEvents || p.keyCol != "" && p.keyCol != "p.k") {
		from += " CROSS JOIN events AS e ON e.pos = p.pos"
	}
	cols := pos + " AS pos, " + tcol + " AS t, " + icol + " AS i"
	if p.keyCol != "" {
		cols = pos + " AS pos, " + p.keyExpr(a) + " AS k, " + tcol + " AS t, " + icol + " AS i"
	}
	if len(c.where) == 0 {
		c.where = []string{"1"}
	}
	return "SELECT " + cols + " FROM " + from + " WHERE " + strings.Join(c.where, " AND "), c.args, true
}

// from returns the FROM clause of arm a, adding its segment, key and
// tenant conditions, and the columns of pos, occurred_at and id.
func (p *plan) from(a arm, c *conds) (from, pos, tcol, icol string) {
	if a.seg == tailArm {
		p.tailFilter(c)
		// NOT INDEXED: the tail is a range of rowids, however many events a
		// tenant's time index holds.
		return "events AS e NOT INDEXED", "e.pos", "e.occurred_at", "e.id"
	}
	if a.seg < 0 {
		if a.tenant == nil {
			return "events AS e INDEXED BY events_by_time_all", "e.pos", "e.occurred_at", "e.id"
		}
		c.add("e.tenant = ?", *a.tenant)
		return "events AS e INDEXED BY events_by_time", "e.pos", "e.occurred_at", "e.id"
	}
	if a.key != "" {
		c.add("p.k = ?", a.key)
	} else {
		c.add("p.k >= ? AND p.k < ?", a.lo, a.hi)
	}
	if p.tenants != nil {
		c.add("p.tenant IN ("+placeholders(len(p.tenants))+")", anys(p.tenants)...)
	}
	return postingsTable(a.seg) + " AS p", "p.pos", "p.t", "p.id"
}

// tailFilter adds the conditions of the unindexed tail: its positions,
// the visible tenants, and the filter that the plan's posting keys apply
// (residual adds the rest).
func (p *plan) tailFilter(c *conds) {
	c.add("e.pos > ?", p.indexed)
	if p.tenants != nil {
		c.add("e.tenant IN ("+placeholders(len(p.tenants))+")", anys(p.tenants)...)
	}
	switch {
	case !p.exact:
	case p.kind == kindTarget:
		p.targetFilter(c)
	case p.kind == kindActor:
		c.addE("e.actor_id = ?", p.q.ActorID)
	case p.kind == kindAction:
		actions := make([]string, len(p.keys))
		for i, k := range p.keys {
			actions[i] = strings.TrimPrefix(k, kindAction)
		}
		c.addE("e.action IN ("+placeholders(len(actions))+")", anys(actions)...)
	}
}

// keyExpr returns the sort key of arm a: the unindexed tail has no
// posting key, so it builds one from the event's column.
func (p *plan) keyExpr(a arm) string {
	if a.seg != tailArm || p.keyCol != "p.k" {
		return p.keyCol
	}
	return "('" + p.kind + "' || " + sortColumns[p.q.SortKey()] + ")"
}

// residual adds the filters that the arm's index does not apply.
func (p *plan) residual(tcol string, c *conds) {
	q := p.q
	for _, f := range []struct{ col, v string }{
		{"e.actor_type", q.ActorType}, {"e.actor_name", q.ActorName}, {"e.trace_id", q.TraceID}, {"e.ip", q.IP},
	} {
		if f.v != "" {
			c.addE(f.col+" = ?", f.v)
		}
	}
	if q.ActorID != "" && !p.selects(kindActor) {
		c.addE("e.actor_id = ?", q.ActorID)
	}
	if !p.actions.all() && !p.selects(kindAction) {
		w, a := p.actions.where("e.action")
		c.addE(w, a...)
	}
	if (q.TargetType != "" || q.TargetID != "") && !p.selects(kindTarget) {
		p.targetFilter(c)
	}
	if !q.Since.IsZero() {
		c.add(tcol+" >= ?", q.Since.UnixMicro())
	}
	if !q.Until.IsZero() {
		c.add(tcol+" < ?", q.Until.UnixMicro())
	}
}

// selects reports whether the arms' posting keys are the filter of kind.
func (p *plan) selects(kind string) bool { return p.exact && p.kind == kind }

// targetFilter checks a partial target filter (type or id alone) against
// the targets in the event's JSON.
func (p *plan) targetFilter(c *conds) {
	var where []string
	var args []any
	if p.q.TargetType != "" {
		where, args = append(where, "j.value ->> 'type' = ?"), append(args, p.q.TargetType)
	}
	if p.q.TargetID != "" {
		where, args = append(where, "j.value ->> 'id' = ?"), append(args, p.q.TargetID)
	}
	c.addE("EXISTS (SELECT 1 FROM json_each(CAST(e.data AS TEXT), '$.targets') AS j WHERE "+
		strings.Join(where, " AND ")+")", args...)
}

// keyset adds the condition "after the cursor". When the arm pins the sort
// key to one value, that value is compared with the cursor's key here,
// which leaves SQLite a plain range over (occurred_at, id).
func (p *plan) keyset(a arm, tcol, icol string, c *conds) bool {
	cur := p.q.After
	if cur == nil {
		return true
	}
	op := " > "
	if p.q.Desc {
		op = " < "
	}
	t := cur.OccurredAt.UnixMicro()
	if p.keyCol == "" {
		c.add("("+tcol+", "+icol+")"+op+"(?, ?)", t, cur.ID)
		return true
	}
	key := cur.Key
	if p.keyCol == "p.k" {
		key = p.kind + key
	}
	fixed := p.fixedKey(a)
	if fixed == nil {
		c.add("("+p.keyExpr(a)+", "+tcol+", "+icol+")"+op+"(?, ?, ?)", key, t, cur.ID)
		return true
	}
	cmp := strings.Compare(*fixed, key)
	if p.q.Desc {
		cmp = -cmp
	}
	if cmp == 0 {
		c.add("("+tcol+", "+icol+")"+op+"(?, ?)", t, cur.ID)
	}
	return cmp >= 0
}

// fixedKey returns the one value the sort key takes in arm a, if any.
func (p *plan) fixedKey(a arm) *string {
	switch {
	case p.keyCol == "p.k" && a.key != "":
		return &a.key
	case p.keyCol == "e.actor_id" && p.q.ActorID != "":
		return &p.q.ActorID
	case p.keyCol == "e.actor_name" && p.q.ActorName != "":
		return &p.q.ActorName
	}
	return nil
}

// actionFilter is a query's actions as the store filters them.
type actionFilter struct{ trail.ActionSet }

func (f actionFilter) all() bool { return f.Any }

// where returns the filter as a condition on col. A prefix is a range,
// ["user.", "user/"), which an index can serve, unlike LIKE.
func (f actionFilter) where(col string) (string, []any) {
	var ors []string
	var args []any
	if len(f.Exact) > 0 {
		ors = append(ors, col+" IN ("+placeholders(len(f.Exact))+")")
		args = append(args, anys(f.Exact)...)
	}
	for _, p := range f.Prefixes {
		ors = append(ors, "("+col+" >= ? AND "+col+" < ?)")
		args = append(args, p, trail.PrefixEnd(p)) // '/' follows '.'
	}
	return "(" + strings.Join(ors, " OR ") + ")", args
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
