package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/trailhq/trail"
)

// listView is the data of the audit log page and of an entity's timeline.
type listView struct {
	Path    string // "/events" or "/entity": where the filter form submits
	Entity  *trail.Target
	Form    formValues
	Hidden  url.Values // parameters the form keeps but does not show
	Actions []string
	// TargetTypes are the target type filter's choices.
	TargetTypes []string
	Events      []*trail.Event
	Rows        []rowView
	Error       string

	Headers  []headerCell
	Columns  []column  // every column, for the chooser
	Cols     columnSet // the columns shown
	Back     string    // this page, where the chooser returns to
	Page     int
	NextURL  string
	FirstURL string
	ClearURL string
	Export   url.Values // the filters an export form posts
	TailURL  string     // empty when the view cannot follow new events
	Text     string
	// Tenant is the organization whose log a platform user opened, ""
	// for the viewer's own; Operator shows a platform user the picker.
	Tenant   string
	Operator bool
}

// formValues are the filter form's fields.
type formValues struct {
	Since, Until, ActorID, Action, TargetType, TargetID, Text string
}

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request, v *viewer) error {
	return s.list(w, r, v, &listView{Path: "/events"})
}

// handleEntity shows every event that touched one entity.
func (s *Server) handleEntity(w http.ResponseWriter, r *http.Request, v *viewer) error {
	q := query(r)
	t := &trail.Target{Type: q.Get("target_type"), ID: q.Get("target_id")}
	if t.Type == "" || t.ID == "" {
		return trail.Invalid("target_type", "an entity needs target_type and target_id")
	}
	return s.list(w, r, v, &listView{Path: "/entity", Entity: t})
}

// list shows a page of the audit log; filters that do not parse show the
// form again with the problem.
func (s *Server) list(w http.ResponseWriter, r *http.Request, v *viewer, lv *listView) error {
	scope, tenant, raw, err := listScope(r, v)
	if err != nil {
		return err
	}
	actions, err := s.listActions(r, scope, lv.Entity)
	if err != nil {
		return err
	}
	lv.Actions, lv.Tenant, lv.Operator = actions, tenant, v.user.Platform()
	if lv.Entity == nil {
		if lv.TargetTypes, err = s.targetTypeOptions(r, scope, raw.Get("target_type")); err != nil {
			return err
		}
	}
	lv.Columns, lv.Cols, lv.Back = columns, s.columnsOf(r, v), r.URL.RequestURI()
	title := "Audit log"
	if lv.Entity != nil {
		title = "Activity of " + lv.Entity.Type + " " + lv.Entity.ID
	}
	f, err := parseFilters(raw, scope)
	if err != nil {
		lv.Error = trail.ErrorMessage(err)
		lv.Form = formFrom(query(r))
		lv.ClearURL = lv.clearURL()
		s.render(w, http.StatusBadRequest, "events", newView(v, title, "events", lv))
		return nil
	}
	if err := s.fillList(r, f, lv); err != nil {
		return err
	}
	if err := s.recordOperatorView(r, v, tenant, "events", entityTargets(lv.Entity)...); err != nil {
		return err
	}
	if err := s.auditList(r, v, lv, f); err != nil {
		return err
	}
	s.render(w, http.StatusOK, "events", newView(v, title, "events", lv))
	return nil
}

// fillList reads the page of events and builds the view's links.
func (s *Server) fillList(r *http.Request, f *filters, lv *listView) error {
	page, err := s.store.Events(r.Context(), f.query)
	if err != nil {
		return err
	}
	lv.Events, lv.Page, lv.Text = page.Events, f.page, f.text
	lv.Form = formFrom(f.values)
	lv.Hidden = url.Values{}
	for _, k := range []string{"sort", "order", "limit", "actor_type", "actor_name", "trace_id", "ip"} {
		if val := f.values.Get(k); val != "" {
			lv.Hidden.Set(k, val)
		}
	}
	if lv.Entity != nil {
		lv.Hidden.Set("target_type", lv.Entity.Type)
		lv.Hidden.Set("target_id", lv.Entity.ID)
	}
	if page.Next != nil {
		lv.NextURL = link(lv.Path, with(f.values, "cursor", page.Next.Encode(), "page", strconv.Itoa(f.page+1)))
	}
	if lv.Tenant != "" {
		// An operator's view of a tenant keeps the tenant in every link; it
		// has no export or live tail, which read the operator's own logs.
		f.values.Set("tenant", lv.Tenant)
		lv.Hidden.Set("tenant", lv.Tenant)
	}
	lv.FirstURL = link(lv.Path, f.values)
	lv.ClearURL = lv.clearURL()
	lv.Export = with(f.values, "limit", "", "cursor", "", "page", "")
	lv.Headers = headers(lv.Path, f, lv.Cols)
	lv.Rows = rows(lv.Events, lv.Cols, f.query.SortKey() == trail.SortActor)
	if lv.Tenant != "" {
		lv.Export = nil
		return nil
	}
	if f.query.SortKey() == trail.SortOccurredAt && f.query.Desc && f.page == 1 {
		lv.TailURL = link("/events/tail", with(f.values, "limit", "", "sort", "", "order", ""))
	}
	return nil
}

func (lv *listView) clearURL() string {
	u := lv.Path
	if lv.Entity != nil {
		u = entityURL(lv.Entity.Type, lv.Entity.ID)
	}
	if lv.Tenant == "" {
		return u
	}
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + "tenant=" + url.QueryEscape(lv.Tenant)
}

func formFrom(v url.Values) formValues {
	return formValues{
		Since: localValue(v.Get("since")), Until: localValue(v.Get("until")),
		ActorID: v.Get("actor_id"), Action: v.Get("action"),
		TargetType: v.Get("target_type"), TargetID: v.Get("target_id"), Text: v.Get("q"),
	}
}

// eventView is the data of one event's page.
type eventView struct {
	Event *trail.Event
	Proof string
	JSON  string
	Logs  *logsView
}

func (s *Server) handleEvent(w http.ResponseWriter, r *http.Request, v *viewer) error {
	id := r.PathValue("id")
	if !trail.ValidID(id) {
		return trail.Errorf(trail.ENOTFOUND, "no event has the id %q", id)
	}
	e, logs, err := s.readEvent(r, eventScope(v), id)
	if err == nil {
		err = s.recordOperatorView(r, v, e.Tenant, "event", trail.Target{Type: "event", ID: e.ID, Name: e.Action})
	}
	if err == nil {
		err = s.auditView(r, v, e)
	}
	if err != nil {
		return err
	}
	ev := &eventView{Event: e, JSON: eventJSON(e), Logs: logs}
	if s.cfg.Proof != nil {
		if ev.Proof, err = s.cfg.Proof(r.Context(), e); err != nil {
			s.logger.Warn("proof status", "event", e.ID, "err", err)
			ev.Proof = "unavailable: the ledger could not be read"
		}
	}
	s.render(w, http.StatusOK, "event", newView(v, e.Action, "events", ev))
	return nil
}

// listActions lists the actions the action filter offers: those of the
// scope, or on an entity's timeline the entity's own (one indexed
// one-event page per action of the scope, however many events the entity
// has).
func (s *Server) listActions(r *http.Request, scope trail.Scope, entity *trail.Target) ([]string, error) {
	if entity == nil {
		return s.store.Actions(r.Context(), scope)
	}
	return trail.TargetActions(r.Context(), s.store, scope, *entity)
}
