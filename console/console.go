// Package console serves Trail's web console: password and single sign-on
// (OpenID Connect, see package sso) sign-in for a tenant's users, the
// audit log with filters, sorting, paging, entity timelines, export and a
// live tail, event pages with their ledger proof and execution logs, and
// settings for owners and admins (API keys, sessions, single sign-on and
// multi-factor sign-in; forwarders of every kind; alert rules with their
// firings; retention and legal holds; action schemas and validation).
//
// Templates and assets are embedded, so the trail binary serves the console
// with no build step. Every page reads through the user's scope: a tenant's
// users see their tenant's events and system events, nothing else.
package console

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/forward"
	"github.com/trailhq/trail/schema"
	"github.com/trailhq/trail/sso"
)

// Defaults for Config's zero values.
const (
	DefaultIdleTimeout  = 12 * time.Hour
	DefaultMaxAge       = 7 * 24 * time.Hour
	DefaultTailInterval = time.Second
	DefaultPageSize     = 50
	// ssoTimeout bounds each request to a single sign-on provider.
	ssoTimeout = 10 * time.Second
)

// Config holds what a Server needs. Store, Users and Writer are required.
type Config struct {
	// Store answers event reads and holds API keys.
	Store trail.Store
	// Users holds console users and sessions.
	Users trail.UserStore
	// Writer appends the console's own audit events (sign-ins, exports,
	// key changes).
	Writer *trail.Writer
	// Logger receives internal errors; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// SecureCookies marks cookies Secure (and uses the __Host- prefix).
	// Set it whenever the console is reached over HTTPS, directly or
	// through a TLS-terminating proxy.
	SecureCookies bool
	// TrustProxyHeaders takes the client address from the last
	// X-Forwarded-For entry. Enable it only behind such a proxy.
	TrustProxyHeaders bool
	// IdleTimeout ends a session unused this long (default 12 h).
	IdleTimeout time.Duration
	// MaxAge ends a session this long after sign-in, however active
	// (default 7 days).
	MaxAge time.Duration
	// TailInterval is how often the live tail polls the store (default 1 s).
	TailInterval time.Duration
	// Proof, when set, returns an event's ledger proof status for the event
	// page (for example "included in checkpoint 42, verified"). Nil hides
	// the field until the ledger exists.
	Proof func(ctx context.Context, e *trail.Event) (string, error)
	// AllowNetworks are the non-public networks that tenants' webhook
	// forwarders, and tenants' single sign-on providers, may point at (see
	// forward.Guard).
	AllowNetworks []netip.Prefix
	// AuditReads records the reads of the audit log as data access
	// events: event.viewed for an event's page, entity.viewed for an
	// entity's timeline, events.searched for a filtered listing.
	AuditReads bool
	// SSOProviders are the single sign-on providers of the server's config
	// file, one a tenant; a tenant's own provider (set through the API or
	// settings) replaces its entry here.
	SSOProviders []*trail.SSOProvider
	// PublicURL is the console's address as browsers reach it, such as
	// https://trail.example.com; the SSO redirect URI is PublicURL +
	// "/login/sso/callback". Empty takes the request's Host.
	PublicURL string
	// Schemas, when set, is the API's schema validator, told at once when
	// settings change a tenant's validation mode; without it the change
	// reaches ingest within schema.CacheTTL.
	Schemas *schema.Validator
}

// Server is the web console. Its Handler serves every console route.
type Server struct {
	store   trail.Store
	users   trail.UserStore
	writer  *trail.Writer
	logger  *slog.Logger
	now     func() time.Time
	cfg     Config
	limiter *loginLimiter
	pages   *pages
	assets  *assetSet
	// ssoTenant signs in through tenants' providers, which it reaches on
	// public networks and AllowNetworks only; ssoOperator through the
	// config file's, anywhere.
	ssoTenant, ssoOperator *sso.Client
	handler                http.Handler

	// streams is closed by CloseStreams to end every live tail.
	streams   chan struct{}
	sessions  *sessionStreams // ends a session's tails when it is revoked
	closeOnce sync.Once
}

// New returns a Server for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.TailInterval <= 0 {
		cfg.TailInterval = DefaultTailInterval
	}
	assets, err := loadAssets()
	if err != nil {
		return nil, err
	}
	p, err := parsePages(assets)
	if err != nil {
		return nil, err
	}
	sessions := newSessionStreams()
	s := &Server{
		store: cfg.Store, users: revokingUsers{cfg.Users, sessions}, writer: cfg.Writer, logger: cfg.Logger,
		now: cfg.Now, cfg: cfg, limiter: newLoginLimiter(), pages: p, assets: assets, streams: make(chan struct{}),
		sessions: sessions,
		ssoTenant: &sso.Client{Now: cfg.Now, HTTP: &http.Client{
			Timeout: ssoTimeout, Transport: forward.NewGuard(cfg.AllowNetworks).Transport()}},
		ssoOperator: &sso.Client{Now: cfg.Now, HTTP: &http.Client{Timeout: ssoTimeout}},
	}
	s.handler = s.routes()
	return s, nil
}

// Handler returns the http.Handler that serves the console. Mount it at
// "/" beside the API: it answers every path the API does not.
func (s *Server) Handler() http.Handler { return s.handler }

// CloseStreams ends every live tail, so that a graceful shutdown does not
// wait for streams that never end by themselves. Register it with
// http.Server.RegisterOnShutdown. Browsers reconnect to another node, or
// to this one once it is back, and resume where they stopped.
func (s *Server) CloseStreams() {
	s.closeOnce.Do(func() { close(s.streams) })
}

// RunPruner calls PruneSessions every interval until ctx ends. Running it
// on several nodes at once is harmless.
func (s *Server) RunPruner(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := s.PruneSessions(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.logger.Error("prune console sessions", "err", err)
		case n > 0:
			s.logger.Info("pruned console sessions", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// PruneSessions deletes sessions that ended (expired, idle too long or
// revoked) more than a day ago, and returns how many.
func (s *Server) PruneSessions(ctx context.Context) (int64, error) {
	return s.users.PruneSessions(ctx, s.now().Add(-s.cfg.IdleTimeout-24*time.Hour))
}

// routes lists every console route, with its guard, in one place. The
// guards (signedIn, auditor, public) adapt the handlers: a handler returns
// its error, and the guard answers it with the error page.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /assets/", s.assets)
	mux.HandleFunc("GET /login", s.public(s.handleLoginPage))
	mux.HandleFunc("POST /login", s.public(s.handleLogin))
	mux.HandleFunc("POST /login/sso", s.public(s.handleSSOStart))
	mux.HandleFunc("GET "+ssoCallbackPath, s.public(s.handleSSOCallback))
	mux.HandleFunc("GET /login/mfa", s.public(s.handleMFAPage))
	mux.HandleFunc("POST /login/mfa", s.public(s.handleMFALogin))
	mux.HandleFunc("GET /login/mfa/enroll", s.public(s.handleMFAEnrolPage))
	mux.HandleFunc("POST /login/mfa/enroll", s.public(s.handleMFAEnrol))
	mux.HandleFunc("POST /logout", s.signedIn(s.handleLogout))

	mux.HandleFunc("GET /{$}", s.signedIn(s.handleHome))
	mux.HandleFunc("GET /events", s.auditor(s.handleEvents))
	mux.HandleFunc("GET /events/tail", s.auditor(s.handleTail))
	mux.HandleFunc("GET /events/actors", s.auditor(s.handleActorOptions))
	mux.HandleFunc("GET /events/{id}", s.auditor(s.handleEvent))
	mux.HandleFunc("GET /entity", s.auditor(s.handleEntity))
	mux.HandleFunc("POST /export", s.auditor(s.handleExport))
	mux.HandleFunc("POST /events/columns", s.auditor(s.handleColumns))

	mux.HandleFunc("GET /settings", s.auditor(s.readOnly(s.handleSettings)))
	mux.HandleFunc("POST /settings/keys", s.auditor(s.readOnly(s.handleCreateKey)))
	mux.HandleFunc("POST /settings/keys/{id}/revoke", s.auditor(s.readOnly(s.handleRevokeKey)))
	mux.HandleFunc("POST /settings/sessions/{id}/revoke", s.auditor(s.readOnly(s.handleRevokeSession)))
	mux.HandleFunc("POST /settings/sso", s.auditor(s.readOnly(s.handleSaveSSO)))
	mux.HandleFunc("POST /settings/sso/delete", s.auditor(s.readOnly(s.handleDeleteSSO)))
	mux.HandleFunc("POST /settings/mfa", s.auditor(s.readOnly(s.handleRequireMFA)))
	mux.HandleFunc("GET /settings/streams", s.auditor(s.readOnly(s.handleStreams)))
	mux.HandleFunc("POST /settings/forwarders", s.auditor(s.readOnly(s.handleCreateForwarder)))
	mux.HandleFunc("POST /settings/forwarders/{name}/delete", s.auditor(s.readOnly(s.handleDeleteForwarder)))
	mux.HandleFunc("POST /settings/forwarders/{name}/replay", s.auditor(s.readOnly(s.handleReplayForwarder)))

	mux.HandleFunc("GET /settings/retention", s.auditor(s.readOnly(s.handleRetention)))
	mux.HandleFunc("POST /settings/retention", s.auditor(s.readOnly(s.handleSetRetention)))
	mux.HandleFunc("POST /settings/holds", s.auditor(s.readOnly(s.handlePlaceHold)))
	mux.HandleFunc("POST /settings/holds/{id}/release", s.auditor(s.readOnly(s.handleReleaseHold)))
	mux.HandleFunc("GET /settings/schemas", s.auditor(s.readOnly(s.handleSchemas)))
	mux.HandleFunc("GET /settings/schemas/{action}", s.auditor(s.readOnly(s.handleSchema)))
	mux.HandleFunc("POST /settings/schemas/validation", s.auditor(s.readOnly(s.handleSetValidation)))
	mux.HandleFunc("GET /settings/alerts", s.auditor(s.readOnly(s.handleAlerts)))
	mux.HandleFunc("POST /settings/alerts", s.auditor(s.readOnly(s.handleCreateRule)))
	mux.HandleFunc("GET /settings/alerts/{id}", s.auditor(s.readOnly(s.handleAlert)))
	mux.HandleFunc("POST /settings/alerts/{id}", s.auditor(s.readOnly(s.handleUpdateRule)))
	mux.HandleFunc("POST /settings/alerts/{id}/disable", s.auditor(s.readOnly(s.handleSwitchRule(true))))
	mux.HandleFunc("POST /settings/alerts/{id}/enable", s.auditor(s.readOnly(s.handleSwitchRule(false))))
	mux.HandleFunc("POST /settings/alerts/{id}/delete", s.auditor(s.readOnly(s.handleDeleteRule)))

	mux.HandleFunc("GET /users", s.auditor(s.readOnly(s.handleUsers)))
	mux.HandleFunc("POST /users/{id}/role", s.auditor(s.readOnly(s.handleUserChange(trail.UserChange{}, "role"))))
	mux.HandleFunc("POST /users/{id}/deactivate", s.auditor(s.readOnly(s.handleUserChange(trail.UserChange{Active: new(false)}, "deactivated"))))
	mux.HandleFunc("POST /users/{id}/reactivate", s.auditor(s.readOnly(s.handleUserChange(trail.UserChange{Active: new(true)}, "reactivated"))))
	mux.HandleFunc("POST /users/{id}/delete", s.auditor(s.readOnly(s.handleDeleteUser)))
	mux.HandleFunc("POST /users/{id}/reset-password", s.auditor(s.readOnly(s.handleResetUserPassword)))
	mux.HandleFunc("POST /users/{id}/reset-mfa", s.auditor(s.readOnly(s.handleResetMFA)))

	mux.HandleFunc("GET /account", s.signedIn(s.handleAccount))
	mux.HandleFunc("POST /account/password", s.signedIn(s.handleChangePassword))
	mux.HandleFunc("GET /account/mfa", s.signedIn(s.handleEnrolPage))
	mux.HandleFunc("POST /account/mfa", s.signedIn(s.handleEnrol))
	mux.HandleFunc("POST /account/mfa/disable", s.signedIn(s.handleDisableMFA))
	mux.HandleFunc("POST /account/sessions/{id}/revoke", s.signedIn(s.handleRevokeOwnSession))
	mux.HandleFunc("GET /password/reset", s.public(s.handleResetPage))
	mux.HandleFunc("POST /password/reset", s.public(s.handleReset))

	mux.HandleFunc("/", s.handleNotFound)
	return s.secureHeaders(s.recoverPanic(s.strictForms(mux)))
}
