package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/trailhq/trail"
)

// maxArms bounds how many ordered scans one page query merges (SQLite
// allows 500 terms in a compound SELECT). Past it, a query falls back to
// fewer scans with the filter checked per row.
const maxArms = 300

// Events returns one page of events matching q, in q's order.
//
// A page is the merge of a few ordered scans (arms), each read only as far
// as the merge needs: one per visible tenant over the time index, or one
// per posting segment and key for a target, actor or action filter. This
// keeps the first page fast however many events match, where one scan with
// "tenant IN (...)" or "action IN (...)" would make SQLite sort every
// matching row. Segments are read newest first (see page.go) and skipped
// once they cannot change the page.
func (db *DB) Events(ctx context.Context, q *trail.Query) (*trail.Page, error) {
	if q.Search != nil {
		evs, err := db.searchEvents(ctx, q) // search.go
		if err != nil {
			return nil, fmt.Errorf("search events: %w", err)
		}
		return trail.NewPage(q, evs), nil
	}
	evs, err := db.page(ctx, q, false)
	if errors.Is(err, errPostingGone) {
		evs, err = db.page(ctx, q, true)
	}
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return trail.NewPage(q, evs), nil
}

// errPostingGone is a posting read whose event is no longer stored: its
// deletion (retention) has not reached the index file yet (see
// forgetPostings). The read is then done again with every posting joined
// to its event, which skips such postings; joining costs a lookup per
// posting read, so it is not done by default.
var errPostingGone = errors.New("an indexed event is no longer stored")

// page reads the events of q's page in one snapshot.
func (db *DB) page(ctx context.Context, q *trail.Query, joinEvents bool) ([]*trail.Event, error) {
	tx, err := db.r.BeginTx(ctx, nil) // one snapshot for planning and reading
	if err != nil {
		return nil, err
	}
	defer rollback(tx)
	p, err := newPlan(ctx, tx, q)
	if err != nil {
		return nil, err
	}
	p.joinEvents = joinEvents
	rows, err := p.run(ctx, tx)
	if err != nil {
		return nil, err
	}
	return db.fetch(ctx, tx, rows)
}

// plan is a page query: the ordered scans to merge and what each checks.
type plan struct {
	q       *trail.Query
	actions actionFilter
	tenants []string  // tenant filter of posting arms; nil when every tenant is visible
	kind    string    // posting kind the arms read, "" for the time index
	exact   bool      // the arms' posting keys are the filter itself
	keyCol  string    // the sort key before t and i, or ""
	keys    []string  // exact posting keys, when exact
	segs    []segment // the segments that can hold events of the page
	arms    []arm     // the arms over the time index, when kind is ""
	indexed int64     // the last position with postings; the tail after it is read from events
	// joinEvents joins every posting to its event (see errPostingGone).
	joinEvents bool
}

// arm is one ordered scan: of a posting segment, by exact key or key
// range, of the time index for one tenant (every tenant when nil), or of
// the unindexed tail.
type arm struct {
	seg    int64 // timeArm for the time index, tailArm for the unindexed tail
	tenant *string
	key    string
	lo, hi string // key range when key is ""
}

func newPlan(ctx context.Context, tx *sql.Tx, q *trail.Query) (*plan, error) {
	p := filterPlan(q)
	segs, err := visibleSegments(ctx, tx)
	if err != nil {
		return nil, err
	}
	if p.keys, err = p.choose(ctx, tx, len(segs)); err != nil {
		return nil, err
	}
	p.setKeyCol()
	if p.kind == "" {
		p.timeArms()
		return p, nil
	}
	for _, s := range segs {
		if p.inRange(s) {
			p.segs = append(p.segs, s)
		}
	}
	p.indexed, err = indexedPos(ctx, tx)
	return p, err
}

// filterPlan returns the plan of q's filters, before any index is chosen.
func filterPlan(q *trail.Query) *plan {
	p := &plan{q: q, actions: actionFilter{trail.SplitActions(q.Actions)}}
	if !q.Scope.All {
		p.tenants = []string{q.Scope.Tenant}
		if q.Scope.Tenant != trail.SystemTenant {
			p.tenants = append(p.tenants, trail.SystemTenant)
		}
	}
	return p
}

// Arms that read no posting segment.
const (
	timeArm = -1
	tailArm = -2
)

// inRange reports whether segment s can hold events of the page: its time
// bounds overlap the query's and, when the page is in time order, reach
// past the cursor.
func (p *plan) inRange(s segment) bool {
	q := p.q
	switch {
	case !q.Since.IsZero() && s.maxT < q.Since.UnixMicro(),
		!q.Until.IsZero() && s.minT >= q.Until.UnixMicro():
		return false
	case q.After == nil || p.keyCol != "":
		return true
	case q.Desc:
		return s.minT <= q.After.OccurredAt.UnixMicro()
	default:
		return s.maxT >= q.After.OccurredAt.UnixMicro()
	}
}

// postingArms returns the arms that read segments segs and the unindexed
// tail.
func (p *plan) postingArms(segs []segment) []arm {
	return append(p.tailArms(), p.segmentArms(segs)...)
}

// tailArms returns the arm that reads the events after the indexer's
// cursor, which have no postings yet, with the filter applied to each
// row; none when the filter's keys name nothing.
func (p *plan) tailArms() []arm {
	if p.exact && len(p.keys) == 0 {
		return nil
	}
	return []arm{{seg: tailArm}}
}

// segmentArms returns the arms that read segments segs.
func (p *plan) segmentArms(segs []segment) []arm {
	var arms []arm
	for _, s := range segs {
		if !p.exact {
			arms = append(arms, arm{seg: s.seg, lo: p.kind, hi: p.kind[:1] + ";"}) // ';' follows ':'
		}
		for _, k := range p.keys {
			arms = append(arms, arm{seg: s.seg, key: k})
		}
	}
	return arms
}

// choose picks the posting keys that select the page: a target, actor or
// action filter (usually the most selective, in that order), or the key
// range of the sort's kind (sortKinds); p.kind stays "" for the time index.
func (p *plan) choose(ctx context.Context, tx *sql.Tx, segs int) ([]string, error) {
	q := p.q
	p.exact = true
	switch {
	case q.TargetType != "" && q.TargetID != "":
		p.kind = kindTarget
		return []string{targetKey(q.TargetType, q.TargetID)}, nil
	case q.ActorID != "":
		p.kind = kindActor
		return []string{kindActor + q.ActorID}, nil
	case !p.actions.all():
		keys, err := p.actionKeys(ctx, tx)
		if err != nil || len(keys) > 0 && len(keys)*segs <= maxArms {
			p.kind = kindAction
			return keys, err
		}
		if len(keys) == 0 {
			p.kind = kindAction // nothing matches: no arms at all
			return nil, nil
		}
	}
	p.exact = false
	p.kind = sortKinds[q.SortKey()]
	return nil, nil
}

// sortColumns are the sort keys read from the event row: the unindexed
// tail's, and a page whose arms read postings of another kind. An event
// without targets sorts as "".
var sortColumns = map[string]string{
	trail.SortAction:     "e.action",
	trail.SortActor:      "e.actor_id",
	trail.SortActorName:  "e.actor_name",
	trail.SortTargetType: "coalesce(CAST(e.data AS TEXT) ->> '$.targets[0].type', '')",
	trail.SortTargetID:   "coalesce(CAST(e.data AS TEXT) ->> '$.targets[0].id', '')",
}

// setKeyCol sets the sort key column: the posting key itself when the
// arms read postings of the sort's kind, else the event's column.
func (p *plan) setKeyCol() {
	sort := p.q.SortKey()
	switch {
	case sort == trail.SortOccurredAt:
	case p.kind == sortKinds[sort]:
		p.keyCol = "p.k"
	default:
		p.keyCol = sortColumns[sort]
	}
}

// actionKeys turns the action filter into the posting keys of the visible
// actions that match it, so that each becomes an ordered scan.
func (p *plan) actionKeys(ctx context.Context, tx *sql.Tx) ([]string, error) {
	where, args := p.actions.where("action")
	if p.tenants != nil {
		where += " AND tenant IN (" + placeholders(len(p.tenants)) + ")"
		for _, t := range p.tenants {
			args = append(args, t)
		}
	}
	rows, err := tx.QueryContext(ctx, "SELECT DISTINCT action FROM event_actions WHERE "+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, err
		}
		keys = append(keys, kindAction+a)
	}
	return keys, rows.Err()
}

// timeArms reads the time index of each visible tenant, the reader's and
// the system tenant, or of every tenant at once.
func (p *plan) timeArms() {
	if p.tenants == nil {
		p.arms = []arm{{seg: timeArm}}
		return
	}
	for _, t := range p.tenants {
		p.arms = append(p.arms, arm{seg: timeArm, tenant: &t})
	}
}

// placeholders returns "?, ?, ?" for n arguments.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
