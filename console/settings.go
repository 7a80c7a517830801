package console

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trailhq/trail"
)

// settingsView is the data of the settings page.
type settingsView struct {
	Keys     []*trail.APIKey
	Sessions []sessionRow
	Scopes   []string
	// NewKey and Secret are set once, right after a key is created: the
	// secret is shown on that response and never again.
	NewKey *trail.APIKey
	Secret string
	Error  string
	Notice string
	Now    time.Time

	// SSO is the single sign-on section.
	SSO *ssoView
	// MFARequired is the owner's switch of multi-factor sign-in.
	MFARequired bool
}

// notices are the messages that a redirect back to settings may ask for;
// any other value shows nothing, so a link cannot put text on the page.
var notices = map[string]string{
	"key-revoked":     "The API key was revoked.",
	"session-revoked": "The session was revoked.",
	"sso-saved":       "Single sign-on settings saved.",
	"sso-disabled":    "Single sign-on is off.",
	"mfa-required":    "Multi-factor sign-in setting saved.",
}

// sessionRow is a session with its user's email.
type sessionRow struct {
	*trail.Session
	Email   string
	Current bool
}

func (s *Server) handleSettings(w http.ResponseWriter, r *http.Request, v *viewer) error {
	return s.renderSettings(w, r, v, http.StatusOK, &settingsView{Notice: query(r).Get("notice")})
}

// renderSettings shows the settings page with sv's notice, error or new
// secret; it returns the error that kept it from reading the page's data.
func (s *Server) renderSettings(w http.ResponseWriter, r *http.Request, v *viewer, status int, sv *settingsView) error {
	ctx := r.Context()
	var err error
	if sv.Keys, err = s.store.Keys(ctx, v.user.Scope()); err != nil {
		return err
	}
	sessions, err := s.users.Sessions(ctx, v.user.Tenant, s.now())
	if err != nil {
		return err
	}
	users, err := s.users.Users(ctx, v.user.Tenant)
	if err != nil {
		return err
	}
	emails := make(map[string]string, len(users))
	for _, u := range users {
		emails[u.ID] = u.Email
	}
	for _, sess := range sessions {
		if sess.Active(s.now(), s.cfg.IdleTimeout) {
			sv.Sessions = append(sv.Sessions, sessionRow{sess, emails[sess.UserID], sess.ID == v.session.ID})
		}
	}
	if sv.SSO, err = s.ssoSettings(r, v); err != nil {
		return err
	}
	if sv.MFARequired, err = s.store.MFARequired(ctx, v.user.Tenant); err != nil {
		return err
	}
	sv.Scopes, sv.Now = trail.Scopes, s.now()
	sv.Notice = notices[sv.Notice]
	s.render(w, status, "settings", newView(v, "Settings", "settings", sv))
	return nil
}

// handleCreateKey creates a tenant key and shows its secret once.
func (s *Server) handleCreateKey(w http.ResponseWriter, r *http.Request, v *viewer) error {
	name := strings.TrimSpace(r.PostFormValue("name"))
	var expires time.Time
	if d := r.PostFormValue("expires_days"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 1 || n > 3650 {
			return s.renderSettings(w, r, v, http.StatusBadRequest,
				&settingsView{Error: "Expires in (days): must be a whole number from 1 to 3650, or empty for never."})
		}
		expires = s.now().Add(time.Duration(n) * 24 * time.Hour)
	}
	k, secret, err := trail.NewAPIKey(name, v.user.Tenant, false, r.PostForm["scopes"], expires, s.now())
	if err != nil {
		return s.renderSettings(w, r, v, http.StatusBadRequest, &settingsView{Error: trail.ErrorMessage(err)})
	}
	if err := s.store.CreateKey(r.Context(), k); err != nil {
		return err
	}
	meta, _ := json.Marshal(map[string]any{"scopes": k.Scopes, "source": "console"})
	if err := s.audit(r.Context(), v.user.Tenant, "api_key.created", v.user.Actor(), s.clientContext(r), meta,
		keyTarget(k)); err != nil {
		// A key whose creation is not on record must not work.
		s.store.RevokeKey(r.Context(), v.user.Scope(), k.ID, s.now())
		return err
	}
	return s.renderSettings(w, r, v, http.StatusCreated, &settingsView{NewKey: k, Secret: secret})
}

func (s *Server) handleRevokeKey(w http.ResponseWriter, r *http.Request, v *viewer) error {
	ctx := r.Context()
	k, err := s.store.Key(ctx, r.PathValue("id"))
	if err != nil || k.Platform || k.Tenant != v.user.Tenant {
		return trail.Errorf(trail.ENOTFOUND, "no API key %q in %s", r.PathValue("id"), v.user.Tenant)
	}
	if err := s.store.RevokeKey(ctx, v.user.Scope(), k.ID, s.now()); err != nil {
		return err
	}
	if err := s.audit(ctx, v.user.Tenant, "api_key.revoked", v.user.Actor(), s.clientContext(r),
		[]byte(`{"source":"console"}`), keyTarget(k)); err != nil {
		return err
	}
	http.Redirect(w, r, "/settings?notice=key-revoked", http.StatusSeeOther)
	return nil
}

// handleRevokeSession ends one of the tenant's sessions (signing its
// browser out) and records session.revoked.
func (s *Server) handleRevokeSession(w http.ResponseWriter, r *http.Request, v *viewer) error {
	sessions, err := s.users.Sessions(r.Context(), v.user.Tenant, s.now())
	if err != nil {
		return err
	}
	return s.revokeSession(w, r, v, sessions, "/settings")
}

// revokeSession revokes the session of the path if it is one of sessions,
// records session.revoked and sends the browser back to page, or to sign
// in when it revoked its own.
func (s *Server) revokeSession(w http.ResponseWriter, r *http.Request, v *viewer, sessions []*trail.Session, page string) error {
	ctx, id := r.Context(), r.PathValue("id")
	i := slices.IndexFunc(sessions, func(sess *trail.Session) bool { return sess.ID == id })
	if i < 0 {
		return trail.Errorf(trail.ENOTFOUND, "no active session %q of yours to revoke", id)
	}
	target := sessions[i]
	if err := s.users.RevokeSession(ctx, v.user.Tenant, id, s.now()); err != nil {
		return err
	}
	meta, _ := json.Marshal(map[string]string{"session_id": id, "user_id": target.UserID})
	if err := s.audit(ctx, v.user.Tenant, trail.ActionSessionRevoked, v.user.Actor(), s.clientContext(r), meta,
		trail.Target{Type: "user", ID: target.UserID}, trail.Target{Type: "session", ID: id}); err != nil {
		return err
	}
	if id == v.session.ID {
		s.setCookie(w, "trail_session", "", -1)
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, page+"?notice=session-revoked", http.StatusSeeOther)
	return nil
}

func keyTarget(k *trail.APIKey) trail.Target {
	return trail.Target{Type: "api_key", ID: k.ID, Name: k.Name}
}
