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
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, status{"ok", trail.Version})
	return nil
}

// handleReadyz reports whether this node can serve: its database answers
// and, after a storage fault (a full disk, a read-only file system), takes
// writes again. The answer names the fault, so that an operator sees why a
// node left its load balancer.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		// The cause may name internal hosts: log it, answer with the code.
		return fmt.Errorf("ping: %v: %w", err, storeFault(err))
	}
	if err := s.metrics.health.Check(ctx, s.store); err != nil {
		return fmt.Errorf("write check: %v: %w", err, storeFault(err))
	}
	writeJSON(w, http.StatusOK, status{"ready", trail.Version})
	return nil
}

// storeFault is the caller-safe error for a failed store check: its
// storage fault, or "database unavailable".
func storeFault(err error) *trail.Error {
	if trail.IsStorageFault(err) {
		return trail.Errorf(trail.ErrorCode(err), "%s", trail.ErrorMessage(err))
	}
	return trail.Errorf(trail.EUNAVAILABLE, "database unavailable")
}

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) error {
	writeRawJSON(w, http.StatusOK, openAPI)
	return nil
}
