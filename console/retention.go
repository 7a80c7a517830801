package console

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/retention"
)

// retentionView is the data of the retention page.
type retentionView struct {
	Policy *trail.RetentionPolicy
	Holds  []*trail.Hold
	Runs   []retentionRun
	Kinds  []string
	// Hold is the hold form as sent, shown again with its problem.
	Hold   trail.HoldRequest
	Error  string
	Notice string
}

// retentionRun is one run that deleted events of the tenant, read from
// its retention.deleted event: runs that deleted nothing are not recorded.
type retentionRun struct {
	At          time.Time
	EventID     string
	Days        int       `json:"days"`
	Cutoff      time.Time `json:"cutoff"`
	Deleted     int64     `json:"deleted"`
	RequestedBy string    `json:"requested_by"`
}

// maxRuns is how many of the last retention runs the page lists.
const maxRuns = 10

var retentionNotices = map[string]string{
	"saved":    "The retention period was saved.",
	"placed":   "The legal hold was placed.",
	"released": "The legal hold was released.",
}

func (s *Server) handleRetention(w http.ResponseWriter, r *http.Request, v *viewer) error {
	return s.renderRetention(w, r, v, http.StatusOK, &retentionView{Notice: retentionNotices[query(r).Get("notice")]})
}

// renderRetention shows the retention page with rv's notice or error.
func (s *Server) renderRetention(w http.ResponseWriter, r *http.Request, v *viewer, status int, rv *retentionView) error {
	ctx, tenant := r.Context(), v.user.Tenant
	var err error
	if rv.Policy, err = s.store.RetentionPolicy(ctx, tenant); err != nil {
		return err
	}
	if rv.Holds, err = s.store.Holds(ctx, trail.Scope{Tenant: tenant}); err != nil {
		return err
	}
	page, err := s.store.Events(ctx, &trail.Query{Scope: trail.Scope{Tenant: tenant},
		Actions: []string{retention.ActionDeleted}, Desc: true, Limit: maxRuns})
	if err != nil {
		return err
	}
	for _, e := range page.Events {
		run := retentionRun{At: e.OccurredAt, EventID: e.ID}
		if e.Tenant == tenant && json.Unmarshal(e.Metadata, &run) == nil {
			rv.Runs = append(rv.Runs, run)
		}
	}
	rv.Kinds = trail.HoldKinds
	s.render(w, status, "retention", newView(v, "Retention", "settings", rv))
	return nil
}

// handleSetRetention sets the tenant's retention period, recording the
// change first as the API does.
func (s *Server) handleSetRetention(w http.ResponseWriter, r *http.Request, v *viewer) error {
	days, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("days")))
	if err != nil {
		days = 0 // not a number: refused below like any other
	}
	if err := trail.CheckRetentionDays(days); err != nil {
		return s.renderRetention(w, r, v, http.StatusBadRequest, &retentionView{Error: trail.ErrorMessage(err)})
	}
	p := &trail.RetentionPolicy{Tenant: v.user.Tenant, Days: days, UpdatedAt: trail.NormalTime(s.now())}
	if err := s.audit(r.Context(), p.Tenant, "retention.changed", v.user.Actor(), s.clientContext(r),
		consoleMeta(map[string]int{"days": days})); err != nil {
		return err
	}
	if err := s.store.SetRetentionPolicy(r.Context(), p); err != nil {
		return err
	}
	http.Redirect(w, r, "/settings/retention?notice=saved", http.StatusSeeOther)
	return nil
}

// handlePlaceHold places a legal hold, recorded before it is stored, so
// that a hold is never in force without its record.
func (s *Server) handlePlaceHold(w http.ResponseWriter, r *http.Request, v *viewer) error {
	req := trail.HoldRequest{Kind: r.PostFormValue("kind"),
		TargetType: strings.TrimSpace(r.PostFormValue("target_type")), TargetID: strings.TrimSpace(r.PostFormValue("target_id")),
		Since: formTime(r.PostFormValue("since")), Until: formTime(r.PostFormValue("until")),
		Reason: strings.TrimSpace(r.PostFormValue("reason"))}
	h, err := trail.NewHold(v.user.Tenant, req, v.user.ID, s.now())
	if err != nil {
		return s.renderRetention(w, r, v, http.StatusBadRequest, &retentionView{Hold: req, Error: trail.ErrorMessage(err)})
	}
	if err := s.audit(r.Context(), h.Tenant, "hold.created", v.user.Actor(), s.clientContext(r), consoleMeta(h),
		holdTarget(h)); err != nil {
		return err
	}
	if err := s.store.CreateHold(r.Context(), h); err != nil {
		return err
	}
	http.Redirect(w, r, "/settings/retention?notice=placed", http.StatusSeeOther)
	return nil
}

// handleReleaseHold lifts one of the tenant's holds; the release is
// recorded before it is made.
func (s *Server) handleReleaseHold(w http.ResponseWriter, r *http.Request, v *viewer) error {
	scope := trail.Scope{Tenant: v.user.Tenant}
	holds, err := s.store.Holds(r.Context(), scope)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(holds, func(h *trail.Hold) bool { return h.ID == r.PathValue("id") })
	if i < 0 {
		return trail.Errorf(trail.ENOTFOUND, "no legal hold %q in %s", r.PathValue("id"), v.user.Tenant)
	}
	h := holds[i]
	if err := s.audit(r.Context(), h.Tenant, "hold.released", v.user.Actor(), s.clientContext(r), consoleMeta(h),
		holdTarget(h)); err != nil {
		return err
	}
	if _, err := s.store.DeleteHold(r.Context(), scope, h.ID); err != nil {
		return err
	}
	http.Redirect(w, r, "/settings/retention?notice=released", http.StatusSeeOther)
	return nil
}

func holdTarget(h *trail.Hold) trail.Target { return trail.Target{Type: "legal_hold", ID: h.ID} }

// formTime turns a datetime-local value ("2026-11-23T12:00"), read as UTC,
// into RFC 3339; other text is passed on for NewHold to refuse.
func formTime(v string) string {
	v = strings.TrimSpace(v)
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC().Format(time.RFC3339)
		}
	}
	return v
}

// consoleMeta is the metadata the API records for a change, v (an object),
// with "source": "console" added.
func consoleMeta(v any) []byte {
	m := map[string]any{}
	if b, err := json.Marshal(v); err == nil {
		json.Unmarshal(b, &m)
	}
	m["source"] = "console"
	b, _ := json.Marshal(m) // decoded JSON always encodes
	return b
}
