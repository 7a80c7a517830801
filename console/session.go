package console

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trailhq/trail"
)

// touchEvery limits how often a session's LastSeenAt is written: idle
// expiry needs minutes, not every request.
const touchEvery = time.Minute

// viewer is the signed-in user of a request and their session.
type viewer struct {
	user    *trail.User
	session *trail.Session
}

// userHandler is the shape of a signed-in user's handler: it answers r,
// or returns the error that signedIn answers with the error page, so that
// its body reads top to bottom with early returns.
type userHandler func(w http.ResponseWriter, r *http.Request, v *viewer) error

func (s *Server) cookieName(base string) string {
	if s.cfg.SecureCookies {
		return "__Host-" + base // Secure, Path=/ and no Domain, enforced by browsers
	}
	return base
}

func (s *Server) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: s.cookieName(name), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
}

// signedIn runs h for a request with a live session; others are sent to
// the sign-in page (pages) or answered 401 (the live tail). It adapts h:
// h's error is answered with the error page (see fail).
func (s *Server) signedIn(h userHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := s.viewer(r)
		switch {
		case err != nil && trail.ErrorCode(err) != trail.EUNAUTHORIZED:
			s.errorPage(w, r, nil, err)
			return
		case err != nil && r.Method == http.MethodGet && r.URL.Path != "/events/tail":
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		case err != nil:
			s.errorPage(w, r, nil, err)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			// A form that does not parse exactly (a raw ";", a bad escape)
			// is refused: lenient parsing drops pairs, which would widen
			// an export's filters.
			if err := r.ParseForm(); err != nil {
				s.errorPage(w, r, v, trail.Invalid("form", "could not be read: "+err.Error()))
				return
			}
		}
		if r.Method == http.MethodPost && !validCSRF(r, v.session.CSRF) {
			s.errorPage(w, r, v, trail.Errorf(trail.EFORBIDDEN,
				"the form was stale or came from another site (CSRF check failed); reload the page and try again"))
			return
		}
		tw := &trackingWriter{ResponseWriter: w}
		if err := h(tw, r, v); err != nil {
			s.fail(tw, r, v, err)
		}
	}
}

// auditor is signedIn for owners and admins only; members get a 403 page.
func (s *Server) auditor(h userHandler) http.HandlerFunc {
	return s.signedIn(func(w http.ResponseWriter, r *http.Request, v *viewer) error {
		if !v.user.CanReadAudit() {
			return trail.Errorf(trail.EFORBIDDEN,
				"Your role (%s) cannot view the audit log or settings. Ask an owner or admin of %s for access.",
				v.user.Role, v.user.Tenant)
		}
		return h(w, r, v)
	})
}

// public adapts the handler of a page that needs no session, as signedIn
// adapts those that do.
func (s *Server) public(h func(w http.ResponseWriter, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tw := &trackingWriter{ResponseWriter: w}
		if err := h(tw, r); err != nil {
			s.fail(tw, r, nil, err)
		}
	}
}

// fail answers a handler's error with the error page. Once the response
// has started (a streamed export), a page cannot follow: the error is
// logged and the response cut short, so that the browser sees the file is
// incomplete.
func (s *Server) fail(w *trackingWriter, r *http.Request, v *viewer, err error) {
	if !w.started {
		s.errorPage(w, r, v, err)
		return
	}
	if r.Context().Err() == nil {
		s.logger.Error("console response failed after it started", "path", r.URL.Path, "err", err)
	}
	panic(http.ErrAbortHandler)
}

// trackingWriter records whether the response has started. Unwrap lets
// http.ResponseController reach the real writer to flush streams.
type trackingWriter struct {
	http.ResponseWriter
	started bool
}

func (w *trackingWriter) WriteHeader(code int) {
	w.started = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *trackingWriter) Write(b []byte) (int, error) {
	w.started = true
	return w.ResponseWriter.Write(b)
}

func (w *trackingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// viewer loads the session of the request's cookie and its user.
func (s *Server) viewer(r *http.Request) (*viewer, error) {
	c, err := r.Cookie(s.cookieName("trail_session"))
	if err != nil || c.Value == "" {
		return nil, trail.Errorf(trail.EUNAUTHORIZED, "sign in to continue")
	}
	ctx := r.Context()
	sess, err := s.users.Session(ctx, trail.HashSessionToken(c.Value))
	if trail.ErrorCode(err) == trail.ENOTFOUND {
		return nil, trail.Errorf(trail.EUNAUTHORIZED, "sign in to continue")
	} else if err != nil {
		return nil, err
	}
	now := s.now()
	if !sess.Active(now, s.cfg.IdleTimeout) {
		return nil, trail.Errorf(trail.EUNAUTHORIZED, "your session has ended; sign in again")
	}
	u, err := s.users.User(ctx, sess.Tenant, sess.UserID)
	if trail.ErrorCode(err) == trail.ENOTFOUND {
		return nil, trail.Errorf(trail.EUNAUTHORIZED, "sign in to continue")
	} else if err != nil {
		return nil, err
	}
	if !u.Active() {
		return nil, trail.Errorf(trail.EUNAUTHORIZED, "your account is deactivated")
	}
	if now.Sub(sess.LastSeenAt) > touchEvery {
		if err := s.users.TouchSession(ctx, sess.Hash, now); err != nil {
			s.logger.Warn("touch session", "err", err)
		}
	}
	return &viewer{user: u, session: sess}, nil
}

func validCSRF(r *http.Request, want string) bool {
	got := r.PostFormValue("csrf")
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// clientContext is the request's origin, recorded on the console's audit
// events.
func (s *Server) clientContext(r *http.Request) trail.Context {
	return trail.Context{IP: s.clientIP(r), UserAgent: cleanText(r.UserAgent(), 1024)}
}

func (s *Server) clientIP(r *http.Request) string {
	if s.cfg.TrustProxyHeaders {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			last := xff[len(xff)-1]
			last = strings.TrimSpace(last[strings.LastIndexByte(last, ',')+1:])
			if ip, err := netip.ParseAddr(last); err == nil {
				return ip.Unmap().WithZone("").String()
			}
		}
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return ""
	}
	return ap.Addr().Unmap().WithZone("").String()
}

// cleanText drops control characters and invalid UTF-8 and cuts s to max
// bytes, so that header values can be stored in events.
func cleanText(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// audit appends one of the console's own events. It waits for the commit,
// so an action that must be audited is refused when the audit cannot be
// stored.
func (s *Server) audit(ctx context.Context, tenant, action string, actor trail.Actor, c trail.Context, meta []byte, targets ...trail.Target) error {
	e := trail.NewSystemEvent(trail.AuditLog(tenant), action, actor, c, s.now(), targets...)
	e.Metadata = meta
	if err := s.writer.Append(ctx, &trail.Batch{Events: []*trail.Event{e}}); err != nil {
		return errors.Join(trail.Errorf(trail.EUNAVAILABLE, "could not record the audit event; try again"), err)
	}
	return nil
}

// secureHeaders sets headers that keep pages out of frames, caches and
// other origins' scripts.
func (s *Server) secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; "+
			"frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/assets/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) recoverPanic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.logger.Error("console panic", "path", r.URL.Path, "panic", p)
				s.errorPage(w, r, nil, trail.Errorf(trail.EINTERNAL, "internal error"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}
