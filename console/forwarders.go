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
func (s *Server) handleCreateForwarder(w http.ResponseWriter, r *http.Request, v *viewer) error {
	fs := s.store
	f := &trail.Forwarder{
		Tenant: v.user.Tenant, Kind: trail.ForwarderWebhook,
		Name: strings.TrimSpace(r.PostFormValue("name")), URI: strings.TrimSpace(r.PostFormValue("uri")),
		Filter: trail.ForwarderFilter{Actions: splitActions(r.PostFormValue("actions"))},
	}
	if err := s.createForwarder(r.Context(), f); err != nil {
		if code := trail.ErrorCode(err); code == trail.EINVALID || code == trail.ECONFLICT {
			// The form again, with the problem.
			status, _ := trail.HTTPStatus(code)
			return s.renderSettings(w, r, v, status, &settingsView{Error: trail.ErrorMessage(err)})
		}
		return err
	}
	meta, _ := json.Marshal(map[string]any{"kind": f.Kind, "uri": f.URI, "actions": f.Filter.Actions, "source": "console"})
	if err := s.audit(r.Context(), f.Tenant, forward.ActionCreated, v.user.Actor(), s.clientContext(r), meta,
		forwarderTarget(f)); err != nil {
		// A forwarder whose creation is not on record must not run.
		fs.DeleteForwarder(r.Context(), f.ID)
		return err
	}
	return s.renderSettings(w, r, v, http.StatusCreated, &settingsView{NewForwarder: f})
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
	http.Redirect(w, r, "/settings?notice=forwarder-deleted", http.StatusSeeOther)
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
	http.Redirect(w, r, "/settings?notice=forwarder-replayed", http.StatusSeeOther)
	return nil
}

func forwarderTarget(f *trail.Forwarder) trail.Target {
	return trail.Target{Type: "forwarder", ID: f.ID, Name: f.Name}
}

// splitActions reads a comma- or space-separated action list.
func splitActions(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}
