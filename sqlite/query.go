package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/trailhq/trail"
)

// maxBranches bounds how many ordered index scans one page query merges.
// Past it, a query falls back to one scan with the filter checked per row.
const maxBranches = 64

// Events returns one page of events matching q, in q's order.
//
// Every index leads with tenant, and a reader sees its tenant plus system
// events, so one page is the merge of a few ordered index scans, one per
// (tenant, exact action) pair, each stopped after a page of rows. This keeps
// the first page fast however many events match; one IN over both tenants would
// make SQLite sort every matching row instead.
func (db *DB) Events(ctx context.Context, q *trail.Query) (*trail.Page, error) {
	tx, err := db.r.BeginTx(ctx, nil) // one snapshot for planning and reading
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	defer rollback(tx)
	p, err := newPlan(ctx, tx, q)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	query, args := p.sql()
	if query == "" {
		return trail.NewPage(q, []*trail.Event{}), nil
	}
	evs, err := db.queryEvents(ctx, tx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return trail.NewPage(q, evs), nil
}

// access paths: which index a page query walks.
const (
	pathTime   = "events_by_time"
	pathActor  = "events_by_actor"
	pathAction = "events_by_action"
	pathTarget = "event_targets"
)

// plan is a page query: its access path and the index scans to merge.
type plan struct {
	q        *trail.Query
	path     string
	keyCol   string // the sort key column before occurred_at and id, or ""
	actions  actionFilter
	branches []branch
}

// branch is one ordered index scan: one tenant (nil for every tenant) and,
// on the action path, one exact action.
type branch struct {
	tenant *string
	action *string
}

func newPlan(ctx context.Context, tx *sql.Tx, q *trail.Query) (*plan, error) {
	p := &plan{q: q, actions: newActionFilter(q.Actions)}
	switch q.SortKey() {
	case trail.SortAction:
		p.keyCol = "e.action"
	case trail.SortActor:
		p.keyCol = "e.actor_id"
	}
	tenants, err := visibleTenants(ctx, tx, q.Scope)
	if err != nil {
		return nil, err
	}
	p.path = choosePath(q, p.actions)
	if p.path == pathAction && !p.actions.all() {
		return p, p.expandActions(ctx, tx, tenants)
	}
	for _, t := range tenants {
		p.branches = append(p.branches, branch{tenant: t})
	}
	return p, nil
}

// choosePath picks the index that both narrows the rows most and yields
// them in the page's order: a target or actor filter is usually the most
// selective, then actions; sorting by actor or action needs that index.
func choosePath(q *trail.Query, af actionFilter) string {
	switch {
	case q.TargetType != "" || q.TargetID != "":
		return pathTarget
	case q.ActorID != "" || q.SortKey() == trail.SortActor:
		return pathActor
	case q.SortKey() == trail.SortAction || !af.all():
		return pathAction
	default:
		return pathTime
	}
}

// visibleTenants lists the tenants whose index ranges a query of scope
// scans: the reader's tenant and the system tenant, or every tenant with
// events. A nil entry means "no tenant condition", used when there are too
// many tenants to merge.
func visibleTenants(ctx context.Context, tx *sql.Tx, scope trail.Scope) ([]*string, error) {
	if !scope.All {
		if scope.Tenant == trail.SystemTenant {
			return []*string{ptr("")}, nil
		}
		return []*string{ptr(scope.Tenant), ptr("")}, nil
	}
	rows, err := tx.QueryContext(ctx, "SELECT tenant FROM tenant_seqs ORDER BY tenant LIMIT ?", maxBranches+1)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ts []*string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		ts = append(ts, &t)
	}
	if len(ts) > maxBranches {
		return []*string{nil}, rows.Err()
	}
	return ts, rows.Err()
}

// expandActions turns the action filter into one branch per visible
// (tenant, exact action) pair that matches it, so that each branch is an
// ordered range of the action index. Too many pairs fall back to the time
// index with the filter checked per row.
func (p *plan) expandActions(ctx context.Context, tx *sql.Tx, tenants []*string) error {
	var where []string
	var args []any
	if tenants[0] != nil {
		ts := make([]any, len(tenants))
		for i, t := range tenants {
			ts[i] = *t
		}
		where, args = append(where, "tenant IN ("+placeholders(len(ts))+")"), ts
	}
	w, a := p.actions.where("action")
	where, args = append(where, w), append(args, a...)
	query := "SELECT tenant, action FROM event_actions WHERE " + strings.Join(where, " AND ") + " LIMIT ?"
	rows, err := tx.QueryContext(ctx, query, append(args, maxBranches+1)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var t, a string
		if err := rows.Scan(&t, &a); err != nil {
			return err
		}
		p.branches = append(p.branches, branch{tenant: &t, action: &a})
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(p.branches) > maxBranches {
		p.path, p.branches = pathTime, nil
		if p.keyCol == "e.action" {
			p.path = pathAction
		}
		for _, t := range tenants {
			p.branches = append(p.branches, branch{tenant: t})
		}
	}
	return nil
}

func ptr(s string) *string { return &s }
