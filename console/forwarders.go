package console

import (
	"context"
	"encoding/json"
	"net/http"
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

// listForwarders fills the forwarders section of settings.
func (s *Server) listForwarders(ctx context.Context, v *viewer, sv *settingsView) error {
	fs := s.store
	sv.Forwarding = true
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
	return nil
}

// handleCreateForwarder creates a webhook forwarder of the user's tenant
// and shows its signing secret once. Other kinds and finer settings are
// managed through /v1/forwarders or the config file.
func (s *Server) handleCreateForwarder(w http.ResponseWriter, r *http.Request, v *viewer) {
	fs := s.store
	f := &trail.Forwarder{
		Tenant: v.user.Tenant, Kind: trail.ForwarderWebhook,
		Name: strings.TrimSpace(r.PostFormValue("name")), URI: strings.TrimSpace(r.PostFormValue("uri")),
		Filter: trail.ForwarderFilter{Actions: splitActions(r.PostFormValue("actions"))},
	}
	err := forward.NewGuard(s.cfg.AllowNetworks).CheckDestination(f)
	if err == nil {
		err = forward.Create(r.Context(), fs, f, s.now())
	}
	if err != nil {
		if code := trail.ErrorCode(err); code == trail.EINVALID || code == trail.ECONFLICT {
			status, _ := trail.HTTPStatus(code)
			s.renderSettings(w, r, v, status, &settingsView{Error: trail.ErrorMessage(err)})
			return
		}
		s.errorPage(w, r, v, err)
		return
	}
	meta, _ := json.Marshal(map[string]any{"kind": f.Kind, "uri": f.URI, "actions": f.Filter.Actions, "source": "console"})
	if err := s.audit(r.Context(), f.Tenant, forward.ActionCreated, v.user.Actor(), s.clientContext(r), meta,
		forwarderTarget(f)); err != nil {
		// A forwarder whose creation is not on record must not run.
		fs.DeleteForwarder(r.Context(), f.ID)
		s.errorPage(w, r, v, err)
		return
	}
	s.renderSettings(w, r, v, http.StatusCreated, &settingsView{NewForwarder: f})
}

// handleDeleteForwarder deletes one of the tenant's forwarders, recording
// the deletion first.
func (s *Server) handleDeleteForwarder(w http.ResponseWriter, r *http.Request, v *viewer) {
	f, ok := s.pathForwarder(w, r, v)
	if !ok {
		return
	}
	if f.ManagedBy == trail.ManagedByConfig {
		s.errorPage(w, r, v, trail.Errorf(trail.ECONFLICT,
			"forwarder %q is managed by the server's config file; change it there", f.Name))
		return
	}
	meta, _ := json.Marshal(map[string]string{"kind": f.Kind, "source": "console"})
	if err := s.audit(r.Context(), f.Tenant, forward.ActionDeleted, v.user.Actor(), s.clientContext(r), meta,
		forwarderTarget(f)); err != nil {
		s.errorPage(w, r, v, err)
		return
	}
	if err := s.store.DeleteForwarder(r.Context(), f.ID); err != nil {
		s.errorPage(w, r, v, err)
		return
	}
	http.Redirect(w, r, "/settings?notice=forwarder-deleted", http.StatusSeeOther)
}

// handleReplayForwarder asks a forwarder to deliver all its dead letters
// again.
func (s *Server) handleReplayForwarder(w http.ResponseWriter, r *http.Request, v *viewer) {
	f, ok := s.pathForwarder(w, r, v)
	if !ok {
		return
	}
	meta, _ := json.Marshal(map[string]any{"kind": f.Kind, "event_ids": 0, "source": "console"})
	if err := s.audit(r.Context(), f.Tenant, forward.ActionReplayed, v.user.Actor(), s.clientContext(r), meta,
		forwarderTarget(f)); err != nil {
		s.errorPage(w, r, v, err)
		return
	}
	if _, err := s.store.ReplayDeadLetters(r.Context(), f.ID, nil); err != nil {
		s.errorPage(w, r, v, err)
		return
	}
	http.Redirect(w, r, "/settings?notice=forwarder-replayed", http.StatusSeeOther)
}

// pathForwarder loads the tenant's forwarder named in the path, answering
// 404 when there is none.
func (s *Server) pathForwarder(w http.ResponseWriter, r *http.Request, v *viewer) (*trail.Forwarder, bool) {
	fs := s.store
	f, err := fs.Forwarder(r.Context(), v.user.Tenant, r.PathValue("name"))
	if err != nil {
		s.errorPage(w, r, v, err)
		return nil, false
	}
	return f, true
}

func forwarderTarget(f *trail.Forwarder) trail.Target {
	return trail.Target{Type: "forwarder", ID: f.ID, Name: f.Name}
}

// splitActions reads a comma- or space-separated action list.
func splitActions(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}
