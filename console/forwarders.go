package console

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/forward"
)

// forwarderRow is a forwarder as settings lists it: secrets redacted, with
// how many events of the stream it has yet to examine.
type forwarderRow struct {
	*trail.Forwarder
	Lag int64
}

// streamsView is the data of the streams page: the tenant's forwarders
// and the form that adds one of any kind.
type streamsView struct {
	Forwarders []forwarderRow
	Kinds      []string
	// Form is the create form as sent, shown again with its problem.
	Form   url.Values
	Error  string
	Notice string
	// NewForwarder is set once, right after a webhook forwarder is
	// created, to show its signing secret.
	NewForwarder *trail.Forwarder
}

var streamNotices = map[string]string{
	"forwarder-deleted":  "The forwarder was deleted.",
	"forwarder-replayed": "The forwarder will deliver its dead letters again.",
}

func (s *Server) handleStreams(w http.ResponseWriter, r *http.Request, v *viewer) error {
	return s.renderStreams(w, r, v, http.StatusOK, &streamsView{Notice: streamNotices[query(r).Get("notice")]})
}

// renderStreams shows the streams page with sv's notice, error or new
// signing secret.
func (s *Server) renderStreams(w http.ResponseWriter, r *http.Request, v *viewer, status int, sv *streamsView) error {
	ctx, fs := r.Context(), s.store
	fwds, err := fs.Forwarders(ctx, v.user.Scope())
	if err != nil {
		return err
	}
	head, err := fs.StreamHead(ctx)
	if err != nil {
		return err
	}
	for _, f := range fwds {
		row := forwarderRow{Forwarder: f.Redacted()}
		// In the tenant's terms only: no other tenant's volume.
		if err := forward.ShowStatus(ctx, fs, row.Forwarder, head); err != nil {
			return err
		}
		if row.Status != nil {
			row.Lag = row.Status.Lag
		}
		sv.Forwarders = append(sv.Forwarders, row)
	}
	if sv.Form == nil {
		sv.Form = url.Values{"kind": {trail.ForwarderWebhook}}
	}
	sv.Kinds = trail.ForwarderKinds
	s.render(w, status, "streams", newView(v, "Streams", "settings", sv))
	return nil
}

// handleCreateForwarder creates a forwarder of any kind, with every
// option, for the user's tenant, checked as the API checks it; a webhook's
// signing secret is shown once.
func (s *Server) handleCreateForwarder(w http.ResponseWriter, r *http.Request, v *viewer) error {
	fs := s.store
	f, err := readForwarderForm(r)
	if err == nil {
		f.Tenant, f.ManagedBy = v.user.Tenant, trail.ManagedByAPI
		err = s.createForwarder(r.Context(), f)
	}
	if err != nil {
		if code := trail.ErrorCode(err); code == trail.EINVALID || code == trail.ECONFLICT {
			// The form again, with the problem; secrets are not sent back.
			form := url.Values{}
			for k, vals := range r.PostForm {
				if !secretFields[k] {
					form[k] = vals
				}
			}
			status, _ := trail.HTTPStatus(code)
			return s.renderStreams(w, r, v, status, &streamsView{Form: form, Error: trail.ErrorMessage(err)})
		}
		return err
	}
	meta := map[string]any{"kind": f.Kind, "managed_by": f.ManagedBy, "uri": f.URI, "actions": f.Filter.Actions, "source": "console"}
	if err := s.audit(r.Context(), f.Tenant, forward.ActionCreated, v.user.Actor(), s.clientContext(r), consoleMeta(meta),
		forwarderTarget(f)); err != nil {
		// A forwarder whose creation is not on record must not run.
		fs.DeleteForwarder(context.WithoutCancel(r.Context()), f.ID)
		return err
	}
	sv := &streamsView{}
	if f.Kind == trail.ForwarderWebhook {
		sv.NewForwarder = f
	} else {
		sv.Notice = "The " + f.Kind + " forwarder " + f.Name + " was created."
	}
	return s.renderStreams(w, r, v, http.StatusCreated, sv)
}

// createForwarder checks f's destination and creates it.
func (s *Server) createForwarder(ctx context.Context, f *trail.Forwarder) error {
	if err := forward.NewGuard(s.cfg.AllowNetworks).CheckDestination(f); err != nil {
		return err
	}
	return forward.Create(ctx, s.store, f, s.now())
}

// handleDeleteForwarder deletes one of the tenant's forwarders, recording
// the deletion first.
func (s *Server) handleDeleteForwarder(w http.ResponseWriter, r *http.Request, v *viewer) error {
	f, err := s.store.Forwarder(r.Context(), v.user.Tenant, r.PathValue("name"))
	if err != nil {
		return err
	}
	if f.ManagedBy == trail.ManagedByConfig {
		return trail.Errorf(trail.ECONFLICT,
			"forwarder %q is managed by the server's config file; change it there", f.Name)
	}
	meta, _ := json.Marshal(map[string]string{"kind": f.Kind, "source": "console"})
	if err := s.audit(r.Context(), f.Tenant, forward.ActionDeleted, v.user.Actor(), s.clientContext(r), meta,
		forwarderTarget(f)); err != nil {
		return err
	}
	if err := s.store.DeleteForwarder(r.Context(), f.ID); err != nil {
		return err
	}
	http.Redirect(w, r, "/settings/streams?notice=forwarder-deleted", http.StatusSeeOther)
	return nil
}

// handleReplayForwarder asks a forwarder to deliver all its dead letters
// again.
func (s *Server) handleReplayForwarder(w http.ResponseWriter, r *http.Request, v *viewer) error {
	f, err := s.store.Forwarder(r.Context(), v.user.Tenant, r.PathValue("name"))
	if err != nil {
		return err
	}
	meta, _ := json.Marshal(map[string]any{"kind": f.Kind, "event_ids": 0, "source": "console"})
	if err := s.audit(r.Context(), f.Tenant, forward.ActionReplayed, v.user.Actor(), s.clientContext(r), meta,
		forwarderTarget(f)); err != nil {
		return err
	}
	if _, err := s.store.ReplayDeadLetters(r.Context(), f.ID, nil); err != nil {
		return err
	}
	http.Redirect(w, r, "/settings/streams?notice=forwarder-replayed", http.StatusSeeOther)
	return nil
}

func forwarderTarget(f *trail.Forwarder) trail.Target {
	return trail.Target{Type: "forwarder", ID: f.ID, Name: f.Name}
}

// splitActions reads a comma- or space-separated action list.
func splitActions(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}
