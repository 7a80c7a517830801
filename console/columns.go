package console

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/trailhq/trail"
)

// column is one column of the audit table. Sort is the store's sort key
// for it, "" for a column the store cannot sort by: its header is no link.
// A column sorts by what its cells show: User by the actor's name, Model
// and Entity ID by the first target's type and id (the first line of
// their cells).
type column struct {
	Key, Label, Sort string
	Default          bool
}

// columns are the audit table's columns, in their order.
var columns = []column{
	{Key: "time", Label: "Time (UTC)", Sort: trail.SortOccurredAt, Default: true},
	{Key: "user", Label: "User", Sort: trail.SortActorName, Default: true},
	{Key: "event", Label: "Event", Sort: trail.SortAction, Default: true},
	{Key: "entity_id", Label: "Entity ID", Sort: trail.SortTargetID, Default: true},
	{Key: "model", Label: "Model", Sort: trail.SortTargetType, Default: true},
	{Key: "audit_log_id", Label: "Audit Log ID", Default: true},
	{Key: "ip", Label: "IP", Default: true},
	{Key: "user_agent", Label: "User agent"},
}

// columnSet is the columns a user shows, by key.
type columnSet map[string]bool

// columnsCookie holds a user's columns: their user id, a colon and the
// column keys, so that another user of the same browser gets their own.
const columnsCookie = "trail_columns"

// columnsOf returns the columns v chose, or the default ones.
func (s *Server) columnsOf(r *http.Request, v *viewer) columnSet {
	set := columnSet{}
	if c, err := r.Cookie(s.cookieName(columnsCookie)); err == nil {
		if id, keys, ok := strings.Cut(c.Value, ":"); ok && id == v.user.ID {
			for k := range strings.SplitSeq(keys, ".") {
				if validColumn(k) {
					set[k] = true
				}
			}
		}
	}
	if len(set) == 0 {
		for _, c := range columns {
			set[c.Key] = c.Default
		}
	}
	return set
}

func validColumn(key string) bool {
	return slices.ContainsFunc(columns, func(c column) bool { return c.Key == key })
}

// handleColumns saves the columns chosen in the table's chooser for the
// signed-in user, then goes back to the table.
func (s *Server) handleColumns(w http.ResponseWriter, r *http.Request, v *viewer) error {
	chosen := r.PostForm["col"]
	if len(chosen) == 0 {
		return trail.Invalid("col", "choose at least one column")
	}
	var keys []string
	for _, k := range chosen {
		if !validColumn(k) {
			return trail.Invalid("col", "unknown column "+strconv.Quote(k))
		}
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	s.setCookie(w, columnsCookie, v.user.ID+":"+strings.Join(keys, "."), 400*24*3600)
	http.Redirect(w, r, safeNext(r.PostFormValue("back")), http.StatusSeeOther)
	return nil
}

// headerCell is one header of the audit table.
type headerCell struct {
	Label, URL, Aria string // URL is "" for a column that cannot sort
}

// headers builds the headers of the chosen columns: a column sorted now
// flips its order; another sortable column starts in its default order.
func headers(path string, f *filters, cols columnSet) []headerCell {
	var out []headerCell
	for _, c := range columns {
		if !cols[c.Key] {
			continue
		}
		h := headerCell{Label: c.Label}
		if c.Sort != "" {
			h.Aria = "none"
			next := with(f.values, "sort", c.Sort, "order", "")
			if f.query.SortKey() == c.Sort {
				h.Aria = "ascending"
				next.Set("order", "desc")
				if f.query.Desc {
					h.Aria = "descending"
					next.Set("order", "asc")
				}
			}
			h.URL = link(path, next)
		}
		out = append(out, h)
	}
	return out
}

// rowView is one row of the audit table: the event, the columns shown,
// and whether the table is sorted by actor id (sort=actor, from a link or
// the API's parameters; the User header sorts by name), which the user
// cell then shows first, so that the rows read in their order.
type rowView struct {
	*trail.Event
	Cols      columnSet
	ByActorID bool
}

// rows wraps a page's events for the row template.
func rows(events []*trail.Event, cols columnSet, byActorID bool) []rowView {
	out := make([]rowView, len(events))
	for i, e := range events {
		out[i] = rowView{Event: e, Cols: cols, ByActorID: byActorID}
	}
	return out
}
