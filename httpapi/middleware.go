package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trailhq/trail"
)

// requestInfo is what the middleware learns about a request as it goes
// down the chain and reports when it comes back up.
type requestInfo struct {
	id  string
	key *trail.APIKey // set by authenticate
	// otlp makes error answers google.rpc.Status messages (otlpAnswers).
	otlp bool
}

type ctxKey struct{}

func info(r *http.Request) *requestInfo {
	if ri, ok := r.Context().Value(ctxKey{}).(*requestInfo); ok {
		return ri
	}
	return &requestInfo{}
}

// apiKey returns the key that authenticated r. Only routes with a scope
// call it, and authenticate always sets it for them.
func apiKey(r *http.Request) *trail.APIKey { return info(r).key }

// statusWriter records the status and size of a response. Unwrap lets
// http.ResponseController reach the real writer to flush exports.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// started reports whether the response to w has begun, so that it is too
// late for an error answer.
func started(w http.ResponseWriter) bool {
	sw, ok := w.(*statusWriter)
	return ok && sw.status != 0
}

// observe logs every request and counts it in the metrics under route, the
// route's pattern rather than its path, so that label values stay few.
func (s *Server) observe(route string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := &requestInfo{id: newRequestID()}
		w.Header().Set("X-Request-Id", ri.id)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			// A panic with http.ErrAbortHandler passes through here on its
			// way to net/http; it is still worth a log line and a count.
			if sw.status == 0 {
				sw.status = http.StatusOK
			}
			d := time.Since(start)
			s.metrics.observeRequest(route, sw.status, d)
			attrs := []any{"id", ri.id, "method", r.Method, "path", r.URL.Path,
				"route", route, "status", sw.status, "bytes", sw.bytes, "duration", d}
			if ri.key != nil {
				attrs = append(attrs, "key", ri.key.ID)
			}
			s.logger.LogAttrs(r.Context(), slog.LevelInfo, "request", slogAttrs(attrs)...)
		}()
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), ctxKey{}, ri)))
	})
}

func slogAttrs(kv []any) []slog.Attr {
	attrs := make([]slog.Attr, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		attrs = append(attrs, slog.Any(kv[i].(string), kv[i+1]))
	}
	return attrs
}

func newRequestID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// recoverPanic turns a panicking handler into a logged 500, so that one bug
// does not take the connection's other requests or the process with it.
func (s *Server) recoverPanic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler { //nolint:errorlint // sentinel compared as net/http does
				panic(v)
			}
			err := fmt.Errorf("panic: %v\n%s", v, debug.Stack())
			if started(w) {
				// Too late for an error answer: log, and cut the
				// response short so the client sees it is incomplete.
				s.logger.ErrorContext(r.Context(), "panic after response started", "id", info(r).id, "err", err)
				panic(http.ErrAbortHandler)
			}
			s.error(w, r, err)
		}()
		next.ServeHTTP(w, r)
	})
}

// authenticate admits requests that carry a usable API key with scope. The
// key is looked up by the id embedded in its secret, then the secret's hash
// is compared in constant time.
func (s *Server) authenticate(scope string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, err := s.keyFor(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="trail"`)
			s.error(w, r, err)
			return
		}
		info(r).key = key
		if !key.HasScope(scope) {
			s.error(w, r, s.failAuth(r, key.ID, key, reasonMissingScope, scope,
				trail.Errorf(trail.EFORBIDDEN, "this API key lacks the %s scope", scope)))
			return
		}
		next.ServeHTTP(w, r)
	})
}

var errInvalidKey = trail.Errorf(trail.EUNAUTHORIZED, "invalid API key")

func (s *Server) keyFor(r *http.Request) (*trail.APIKey, error) {
	if len(r.Header.Values("Authorization")) > 1 {
		// Go reads the first and a proxy may check the last: one request
		// must not be two callers.
		return nil, trail.Errorf(trail.EUNAUTHORIZED, "Authorization: given more than once: send one API key")
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, trail.Errorf(trail.EUNAUTHORIZED,
			"missing API key: send the header Authorization: Bearer <secret>")
	}
	scheme, secret, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" {
		return nil, trail.Errorf(trail.EUNAUTHORIZED,
			"malformed Authorization header: use Authorization: Bearer <secret>")
	}
	id, ok := trail.KeyIDFromSecret(secret)
	if !ok || !validKeyID(id) {
		return nil, s.failAuth(r, "", nil, reasonUnknownKey, "", errInvalidKey)
	}
	key, err := s.store.Key(r.Context(), id)
	switch {
	case trail.ErrorCode(err) == trail.ENOTFOUND:
		return nil, s.failAuth(r, id, nil, reasonUnknownKey, "", errInvalidKey)
	case err != nil:
		return nil, fmt.Errorf("look up API key: %w", err)
	}
	now := s.now()
	if key.Authenticate(secret, now) {
		return key, nil
	}
	// Say why only to someone who holds the secret.
	usable := *key
	usable.RevokedAt, usable.ExpiresAt = time.Time{}, time.Time{}
	switch {
	case !usable.Authenticate(secret, now):
		return nil, s.failAuth(r, id, key, reasonWrongSecret, "", errInvalidKey)
	case !key.RevokedAt.IsZero():
		return nil, s.failAuth(r, id, key, reasonRevoked, "", trail.Errorf(trail.EUNAUTHORIZED, "API key was revoked"))
	default:
		return nil, s.failAuth(r, id, key, reasonExpired, "", trail.Errorf(trail.EUNAUTHORIZED, "API key has expired"))
	}
}

// noRoute answers requests that match no route with the JSON error shape:
// 405 with Allow when the path exists for other methods, 404 otherwise.
func (s *Server) noRoute(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, _ := mux.Handler(r)
		probe := &headerProbe{header: http.Header{}}
		h.ServeHTTP(probe, r)
		if probe.status == http.StatusMethodNotAllowed {
			allow := probe.header.Get("Allow")
			w.Header().Set("Allow", allow)
			writeError(w, http.StatusMethodNotAllowed, &trail.Error{Code: trail.EINVALID,
				Message: "method " + r.Method + " is not allowed here; allowed: " + allow})
			return
		}
		writeError(w, http.StatusNotFound, errNoRoute(r))
	})
}

// errNoRoute is the answer to a request for a route that does not exist.
func errNoRoute(r *http.Request) *trail.Error {
	return trail.Errorf(trail.ENOTFOUND, "no such route: %s %s", r.Method, strconv.Quote(r.URL.Path))
}

// headerProbe captures what the mux's own 404/405 handler would answer.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header         { return p.header }
func (p *headerProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *headerProbe) WriteHeader(code int)        { p.status = code }

// clientContext is the request's origin, recorded on Trail's own audit
// events. Header values may hold any bytes; stores take valid UTF-8 only.
func (s *Server) clientContext(r *http.Request) trail.Context {
	return trail.Context{IP: s.clientIP(r), UserAgent: cleanHeader(r.UserAgent(), 1024)}
}

func (s *Server) clientIP(r *http.Request) string {
	if s.trustProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			last := xff[len(xff)-1]
			last = strings.TrimSpace(last[strings.LastIndexByte(last, ',')+1:])
			if ip, err := parseIP(last); err == nil {
				return ip
			}
		}
	}
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	ip, err := parseIP(strings.Trim(host, "[]"))
	if err != nil {
		return ""
	}
	return ip
}

func cleanHeader(v string, max int) string {
	v = strings.ToValidUTF8(v, "\uFFFD")
	v = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, v)
	if len(v) <= max {
		return v
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return v[:cut]
}

func parseIP(s string) (string, error) {
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return "", err
	}
	return ip.Unmap().WithZone("").String(), nil
}
