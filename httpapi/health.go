package httpapi

import (
	"context"
	_ "embed"
	"fmt"
	"net/http"
	"time"

	"github.com/trailhq/trail"
)

// openAPI is the OpenAPI 3.1 document of this API, served as is.
//
//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the embedded OpenAPI 3.1 document.
func OpenAPI() []byte { return append([]byte(nil), openAPI...) }

// readyTimeout bounds the database ping of /readyz, so that a hung
// database makes the node unready rather than the probe hang.
const readyTimeout = 2 * time.Second

type status struct {
	Status  string `json:"status"`
	Version string `json:"version"`
}

// handleHealthz reports that the process serves HTTP.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, status{"ok", trail.Version})
}

// handleReadyz reports whether this node can serve: its database answers.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		// The cause may name internal hosts: log it, answer generically.
		s.error(w, r, fmt.Errorf("ping: %v: %w", err, trail.Errorf(trail.EUNAVAILABLE, "database unavailable")))
		return
	}
	writeJSON(w, http.StatusOK, status{"ready", trail.Version})
}

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	writeRawJSON(w, http.StatusOK, openAPI)
}
