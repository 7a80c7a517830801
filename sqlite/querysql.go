package sqlite

import (
	"strings"
)

// sql returns the page query: the branches merged in page order, each
// limited to one page plus one row, then joined to the events they name.
// It returns "" when no branch can hold an event after the cursor.
func (p *plan) sql() (string, []any) {
	n := p.q.PageLimit() + 1
	var parts []string
	var args []any
	for _, b := range p.branches {
		s, a, ok := p.branchSQL(b, n)
		if ok {
			parts, args = append(parts, s), append(args, a...)
		}
	}
	if len(parts) == 0 {
		return "", nil
	}
	inner := parts[0]
	if len(parts) > 1 {
		inner = "SELECT * FROM (" + strings.Join(parts, ") UNION ALL SELECT * FROM (") +
			") ORDER BY " + p.order("") + " LIMIT ?"
		args = append(args, n)
	}
	return "SELECT e.pos, e.data FROM (" + inner + ") AS b CROSS JOIN events AS e ON e.pos = b.pos ORDER BY " +
		p.order("b."), args
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

// branchSQL returns one ordered index scan, or ok=false when the cursor is
// past everything the branch could return.
func (p *plan) branchSQL(b branch, n int) (query string, args []any, ok bool) {
	var where []string
	add := func(cond string, a ...any) {
		where, args = append(where, cond), append(args, a...)
	}
	from, tcol, icol := p.from(b, add)
	if b.action != nil {
		add("e.action = ?", *b.action)
	} else if !p.actions.all() {
		w, a := p.actions.where("e.action")
		add(w, a...)
	}
	p.residual(tcol, add)
	if !p.keyset(b, tcol, icol, add) {
		return "", nil, false
	}
	if len(where) == 0 {
		where = []string{"1"}
	}
	cols := "e.pos AS pos, " + tcol + " AS t, " + icol + " AS i"
	if p.keyCol != "" {
		cols = "e.pos AS pos, " + p.keyCol + " AS k, " + tcol + " AS t, " + icol + " AS i"
	}
	if p.path == pathTarget && (p.q.TargetType == "" || p.q.TargetID == "") {
		cols = "DISTINCT " + cols // an event may have several matching targets
	}
	query = "SELECT " + cols + " FROM " + from + " WHERE " + strings.Join(where, " AND ") +
		" ORDER BY " + p.order("") + " LIMIT ?"
	return query, append(args, n), true
}

// from returns the FROM clause of branch b, adding its tenant and target
// conditions, and the columns that hold occurred_at and id in the order.
func (p *plan) from(b branch, add func(string, ...any)) (from, tcol, icol string) {
	if p.path == pathTarget {
		if b.tenant != nil {
			add("g.tenant = ?", *b.tenant)
		}
		if p.q.TargetType != "" {
			add("g.type = ?", p.q.TargetType)
		}
		if p.q.TargetID != "" {
			add("g.id = ?", p.q.TargetID)
		}
		return "event_targets AS g CROSS JOIN events AS e ON e.pos = g.pos", "g.occurred_at", "g.event_id"
	}
	if b.tenant == nil {
		return "events AS e", "e.occurred_at", "e.id"
	}
	add("e.tenant = ?", *b.tenant)
	return "events AS e INDEXED BY " + p.path, "e.occurred_at", "e.id"
}

// residual adds the filters that no index of the path covers.
func (p *plan) residual(tcol string, add func(string, ...any)) {
	q := p.q
	for _, f := range []struct{ col, v string }{
		{"e.actor_type", q.ActorType}, {"e.actor_id", q.ActorID}, {"e.actor_name", q.ActorName},
		{"e.trace_id", q.TraceID}, {"e.ip", q.IP},
	} {
		if f.v != "" {
			add(f.col+" = ?", f.v)
		}
	}
	if !q.Since.IsZero() {
		add(tcol+" >= ?", q.Since.UnixMicro())
	}
	if !q.Until.IsZero() {
		add(tcol+" < ?", q.Until.UnixMicro())
	}
}

// keyset adds the condition "after the cursor". When the branch pins the
// sort key to one value (an action branch sorted by action, an actor filter
// sorted by actor), the comparison of that value with the cursor's key is
// done here, which leaves SQLite a plain range over (occurred_at, id).
func (p *plan) keyset(b branch, tcol, icol string, add func(string, ...any)) bool {
	c := p.q.After
	if c == nil {
		return true
	}
	op := " > "
	if p.q.Desc {
		op = " < "
	}
	t := c.OccurredAt.UnixMicro()
	if p.keyCol == "" {
		add("("+tcol+", "+icol+")"+op+"(?, ?)", t, c.ID)
		return true
	}
	fixed := p.fixedKey(b)
	if fixed == nil {
		add("("+p.keyCol+", "+tcol+", "+icol+")"+op+"(?, ?, ?)", c.Key, t, c.ID)
		return true
	}
	cmp := strings.Compare(*fixed, c.Key)
	if p.q.Desc {
		cmp = -cmp
	}
	if cmp == 0 {
		add("("+tcol+", "+icol+")"+op+"(?, ?)", t, c.ID)
	}
	return cmp >= 0
}

// fixedKey returns the one value the sort key takes in branch b, if any.
func (p *plan) fixedKey(b branch) *string {
	switch {
	case p.keyCol == "e.action" && b.action != nil:
		return b.action
	case p.keyCol == "e.actor_id" && p.q.ActorID != "":
		return &p.q.ActorID
	}
	return nil
}

// actionFilter is Query.Actions split into exact actions and prefixes.
type actionFilter struct {
	any      bool     // no filter, or "*"
	exact    []string // user.created
	prefixes []string // "user." for user.*
}

func newActionFilter(actions []string) actionFilter {
	f := actionFilter{any: len(actions) == 0}
	for _, a := range actions {
		switch {
		case a == "*":
			f.any = true
		case strings.HasSuffix(a, ".*"):
			f.prefixes = append(f.prefixes, strings.TrimSuffix(a, "*"))
		default:
			f.exact = append(f.exact, a)
		}
	}
	return f
}

func (f actionFilter) all() bool { return f.any }

// where returns the filter as a condition on col. A prefix is a range,
// ["user.", "user/"), which an index can serve, unlike LIKE.
func (f actionFilter) where(col string) (string, []any) {
	var ors []string
	var args []any
	if len(f.exact) > 0 {
		ors = append(ors, col+" IN ("+placeholders(len(f.exact))+")")
		for _, a := range f.exact {
			args = append(args, a)
		}
	}
	for _, p := range f.prefixes {
		ors = append(ors, "("+col+" >= ? AND "+col+" < ?)")
		args = append(args, p, p[:len(p)-1]+"/") // '/' follows '.'
	}
	return "(" + strings.Join(ors, " OR ") + ")", args
}
