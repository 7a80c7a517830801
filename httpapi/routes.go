package httpapi

import (
	"net/http"

	"github.com/trailhq/trail"
)

// public marks a route that needs no API key.
const public = ""

// route is one line of the route table.
type route struct {
	// pattern is a net/http ServeMux pattern with a method, such as
	// "POST /v1/events"; it is also the route label of the metrics.
	pattern string
	// scope is the API key scope the route needs, or public.
	scope   string
	handler handler
}

// handler is the shape of every route's handler: it answers r, or returns
// the error that serve answers for it, so that its body reads top to
// bottom with early returns.
type handler func(w http.ResponseWriter, r *http.Request) error

// serve adapts h to net/http; every route's error answer is made here.
// An error before the response started is answered by s.error (one status
// table, one error shape). After it started (a streamed export), a second
// status cannot be sent: the error is logged and the response cut short,
// so that the client sees it is incomplete.
func (s *Server) serve(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		switch {
		case err == nil:
		case !started(w):
			s.error(w, r, err)
		default:
			if r.Context().Err() == nil {
				s.logger.ErrorContext(r.Context(), "response failed after it started", "id", info(r).id, "err", err)
			}
			panic(http.ErrAbortHandler)
		}
	})
}

// otlpRoute is the OTLP/HTTP receiver of the API port; its errors are
// google.rpc.Status messages, as the OTLP specification requires.
const otlpRoute = "POST /v1/otlp/logs"

// routes is the route table: every route of the API, in one place. The
// OpenAPI document (openapi.json) must list exactly these; a test checks.
func (s *Server) routes() []route {
	return []route{
		{"GET /healthz", public, s.handleHealthz},
		{"GET /readyz", public, s.handleReadyz},
		{"GET /metrics", public, s.handleMetrics},
		{"GET /openapi.json", public, s.handleOpenAPI},

		{"POST /v1/events", trail.ScopeEventsWrite, s.handleIngest},
		{"GET /v1/events", trail.ScopeEventsRead, s.handleListEvents},
		{"GET /v1/events/export", trail.ScopeEventsRead, s.handleExport},
		{"GET /v1/events/{id}", trail.ScopeEventsRead, s.handleGetEvent},
		{"GET /v1/targets/{type}/{id}/events", trail.ScopeEventsRead, s.handleTargetEvents},
		{"GET /v1/events/{id}/proof", trail.ScopeEventsRead, s.handleEventProof},

		{"GET /v1/ledger/pubkey", public, s.handleLedgerPubkey},
		{"GET /v1/ledger/checkpoint", trail.ScopeEventsRead, s.handleLedgerCheckpoint},
		{"GET /v1/ledger/consistency", trail.ScopeEventsRead, s.handleLedgerConsistency},
		{"GET /v1/ledger/logs", trail.ScopeEventsRead, s.handleLedgerLogs},
		{"GET /v1/ledger/rows", trail.ScopeEventsRead, s.handleLedgerRows},
		{"GET /v1/ledger/tiles", trail.ScopeEventsRead, s.handleLedgerTiles},
		{"GET /v1/ledger/pruned", trail.ScopeEventsRead, s.handleLedgerPruned},
		{"GET /v1/ledger/moved", trail.ScopeEventsRead, s.handleLedgerMoved},

		{"POST /v1/keys", trail.ScopeAdmin, s.handleCreateKey},
		{"GET /v1/keys", trail.ScopeAdmin, s.handleListKeys},
		{"DELETE /v1/keys/{id}", trail.ScopeAdmin, s.handleRevokeKey},

		{"GET /v1/users", trail.ScopeAdmin, s.handleListUsers},
		{"POST /v1/users", trail.ScopeAdmin, s.handleCreateUser},
		{"GET /v1/users/{id}", trail.ScopeAdmin, s.handleGetUser},
		{"PATCH /v1/users/{id}", trail.ScopeAdmin, s.handlePatchUser},
		{"DELETE /v1/users/{id}", trail.ScopeAdmin, s.handleDeleteUser},
		{"POST /v1/users/{id}/reset-password", trail.ScopeAdmin, s.handleResetPassword},
		{"GET /v1/users/{id}/sessions", trail.ScopeAdmin, s.handleListUserSessions},
		{"DELETE /v1/users/{id}/sessions/{session}", trail.ScopeAdmin, s.handleRevokeUserSession},

		{"POST /v1/forwarders", trail.ScopeAdmin, s.handleCreateForwarder},
		{"GET /v1/forwarders", trail.ScopeAdmin, s.handleListForwarders},
		{"GET /v1/forwarders/{name}", trail.ScopeAdmin, s.handleGetForwarder},
		{"PATCH /v1/forwarders/{name}", trail.ScopeAdmin, s.handlePatchForwarder},
		{"DELETE /v1/forwarders/{name}", trail.ScopeAdmin, s.handleDeleteForwarder},
		{"GET /v1/forwarders/{name}/dead-letters", trail.ScopeAdmin, s.handleListDeadLetters},
		{"POST /v1/forwarders/{name}/dead-letters/replay", trail.ScopeAdmin, s.handleReplayDeadLetters},

		{"GET /v1/actions", trail.ScopeEventsRead, s.handleListActions},
		{"GET /v1/actors", trail.ScopeEventsRead, s.handleListActors},
		{"GET /v1/target-types", trail.ScopeEventsRead, s.handleListTargetTypes},
		{"POST /v1/actions/{action}/schemas", trail.ScopeAdmin, s.handleRegisterSchema},
		{"GET /v1/actions/{action}/schemas", trail.ScopeEventsRead, s.handleListSchemas},
		{"GET /v1/actions/{action}/schemas/{version}", trail.ScopeEventsRead, s.handleGetSchema},
		{"GET /v1/validation", trail.ScopeAdmin, s.handleGetValidation},
		{"PUT /v1/validation", trail.ScopeAdmin, s.handleSetValidation},

		{"GET /v1/retention", trail.ScopeAdmin, s.handleGetRetention},
		{"PUT /v1/retention", trail.ScopeAdmin, s.handleSetRetention},
		{"POST /v1/retention/run", trail.ScopeAdmin, s.handleRunRetention},
		{"POST /v1/holds", trail.ScopeAdmin, s.handleCreateHold},
		{"GET /v1/holds", trail.ScopeAdmin, s.handleListHolds},
		{"DELETE /v1/holds/{id}", trail.ScopeAdmin, s.handleDeleteHold},

		{"GET /v1/sso", trail.ScopeAdmin, s.handleGetSSO},
		{"PUT /v1/sso", trail.ScopeAdmin, s.handleSetSSO},
		{"DELETE /v1/sso", trail.ScopeAdmin, s.handleDeleteSSO},
		{"GET /v1/settings/mfa", trail.ScopeAdmin, s.handleGetMFA},
		{"PUT /v1/settings/mfa", trail.ScopeAdmin, s.handleSetMFA},

		{"POST /v1/alerts/rules", trail.ScopeAdmin, s.handleCreateRule},
		{"GET /v1/alerts/rules", trail.ScopeAdmin, s.handleListRules},
		{"GET /v1/alerts/rules/{id}", trail.ScopeAdmin, s.handleGetRule},
		{"PATCH /v1/alerts/rules/{id}", trail.ScopeAdmin, s.handlePatchRule},
		{"DELETE /v1/alerts/rules/{id}", trail.ScopeAdmin, s.handleDeleteRule},
		{"GET /v1/alerts/rules/{id}/firings", trail.ScopeAdmin, s.handleListFirings},

		{"POST /v1/logs", trail.ScopeEventsWrite, s.handleIngestLogs},
		{otlpRoute, trail.ScopeEventsWrite, s.handleOTLPLogs},
		{"GET /v1/events/{id}/logs", trail.ScopeEventsRead, s.handleEventLogs},
	}
}

// handle adapts a handler that returns its error: the error is answered
// in the one error shape.
func (s *Server) handle(h func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.error(w, r, err)
		}
	}
}

// Routes returns the pattern ("METHOD /path") of every route, in table order.
func (s *Server) Routes() []string {
	var patterns []string
	for _, rt := range s.routes() {
		patterns = append(patterns, rt.pattern)
	}
	return patterns
}

// buildHandler registers every route with its middleware. The chain, from
// the outside in: request log and metrics, panic recovery, authentication
// with the route's scope, the record of a read of the audit log (with
// Config.AuditReads), the strict parse of the query string with the
// route's parameters (checkQuery), then the handler, adapted by serve.
func (s *Server) buildHandler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		var h http.Handler = s.checkQuery(rt.pattern, s.serve(rt.handler))
		if action, ok := auditedReads[rt.pattern]; ok && s.auditReads {
			h = s.auditRead(action, h)
		}
		if rt.scope != public {
			h = s.authenticate(rt.scope, h)
		}
		if rt.pattern == otlpRoute {
			h = otlpAnswers(h)
		}
		h = s.recoverPanic(h)
		h = s.observe(rt.pattern, h)
		mux.Handle(rt.pattern, h)
	}
	noRoute := s.observe("unmatched", s.recoverPanic(s.noRoute(mux)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern == "" {
			noRoute.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}
