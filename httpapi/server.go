// Package httpapi serves Trail's HTTP JSON API under /v1: ingest, queries,
// export and API keys, with authentication, one error shape, Prometheus
// metrics, health checks and an embedded OpenAPI document.
//
// Handlers decode and validate with the root package (trail.ParseEvents,
// trail.ParseQuery), write through the group-commit trail.Writer and read
// through a trail.Store; every read is scoped to what the API key may see.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/trailhq/trail"
	"github.com/trailhq/trail/forward"
	"github.com/trailhq/trail/ledger"
	"github.com/trailhq/trail/retention"
	"github.com/trailhq/trail/schema"
)

// Config holds what a Server needs. Store and Writer are required.
type Config struct {
	// Store answers reads and holds API keys.
	Store trail.Store
	// Writer commits ingested events and Trail's own audit events.
	Writer *trail.Writer
	// Ledger serves checkpoints, proofs and evidence bundles; nil answers
	// the ledger routes with 503.
	Ledger *ledger.Ledger
	// Logger receives one line per request and every internal error; nil
	// discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Registry receives the API's metrics; nil makes a new one. Pass the
	// registry that NewMetrics was given for the Writer's commit metrics.
	Registry *prometheus.Registry
	// Retention runs POST /v1/retention/run; nil makes one with default
	// settings over Store and Writer. Pass the runner of the background
	// job, so that runs on one node take turns.
	Retention *retention.Runner
	// Schemas checks ingested events against their actions' schemas and
	// is told when one changes; nil makes one over Store (with Now).
	// Pass the one the process shares.
	Schemas *schema.Validator
	// TrustProxyHeaders takes the client address from X-Forwarded-For (its
	// last entry, the one the proxy in front of Trail added) instead of the
	// connection. Enable it only behind such a proxy.
	TrustProxyHeaders bool
	// MetricsToken, when set, serves GET /metrics on the API's listener to
	// requests with "Authorization: Bearer <MetricsToken>". When empty,
	// GET /metrics answers 404 there: metric labels name tenants and their
	// forwarders, so they are served on a separate listener
	// (MetricsHandler) or behind the token, never to anyone.
	MetricsToken string
	// AllowNetworks are the non-public networks (loopback, private,
	// ...) that tenants' forwarders and alert webhooks may point at; see
	// forward.Guard. Operator destinations may point anywhere.
	AllowNetworks []netip.Prefix
	// AuditReads records reads of the audit log as data access events in
	// the calling key's log: event.viewed for GET /v1/events/{id},
	// entity.viewed for an entity's events, events.searched for a listing
	// with filters.
	AuditReads bool
	// SSOProviders are the single sign-on providers of the server's config
	// file, one a tenant: /v1/sso shows them and refuses to change them.
	SSOProviders []*trail.SSOProvider
}

// Server is the HTTP API. Its Handler serves every route of the route table.
type Server struct {
	store      trail.Store
	writer     *trail.Writer
	ledger     *ledger.Ledger
	logger     *slog.Logger
	now        func() time.Time
	registry   *prometheus.Registry
	metrics    *Metrics
	trustProxy bool
	auditReads bool // see Config.AuditReads
	handler    http.Handler
	// sso finds tenants' single sign-on providers, the config file's too.
	sso   trail.SSOProviders
	guard *forward.Guard // checks tenants' destinations at creation

	metricsToken string // see Config.MetricsToken

	authFails authFailures // refused API keys, until FlushAuthFailures

	retention *retention.Runner // runs POST /v1/retention/run
	schemas   *schema.Validator // checks ingest against action schemas
}

// New returns a Server for cfg.
func New(cfg Config) *Server {
	s := &Server{
		store:      cfg.Store,
		writer:     cfg.Writer,
		ledger:     cfg.Ledger,
		logger:     cfg.Logger,
		now:        cfg.Now,
		registry:   cfg.Registry,
		trustProxy: cfg.TrustProxyHeaders,
		auditReads: cfg.AuditReads,

		metricsToken: cfg.MetricsToken,
		guard:        forward.NewGuard(cfg.AllowNetworks),
		sso:          trail.SSOProviders{Store: cfg.Store, Config: cfg.SSOProviders},
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.registry == nil {
		s.registry = prometheus.NewRegistry()
	}
	s.metrics = NewMetrics(s.registry)
	s.metrics.health.SetLogger(s.logger)
	s.retention = newRetention(cfg)
	s.schemas = newSchemas(cfg, s.now)
	s.handler = s.buildHandler()
	return s
}

// Handler returns the http.Handler that serves the API.
func (s *Server) Handler() http.Handler { return s.handler }

// IdempotencyTTL is how long an Idempotency-Key is remembered: a client may
// retry a request with the same key for this long.
const IdempotencyTTL = 48 * time.Hour

// PruneIdempotency forgets idempotency keys older than IdempotencyTTL and
// returns how many it removed.
func (s *Server) PruneIdempotency(ctx context.Context) (int64, error) {
	return s.store.PruneIdempotency(ctx, s.now().Add(-IdempotencyTTL))
}

// RunPruner calls PruneIdempotency every interval until ctx ends. Running it
// on several nodes at once is harmless. Failures are logged and retried at
// the next tick.
func (s *Server) RunPruner(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := s.PruneIdempotency(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.logger.Error("prune idempotency keys", "err", err)
		case n > 0:
			s.logger.Info("pruned idempotency keys", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
