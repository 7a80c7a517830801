package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/trailhq/trail"
)

// errIdempotencyMismatch is the one conflict with its own status: the
// request is well-formed but cannot be processed under that key (as in the
// IETF Idempotency-Key draft).
var errIdempotencyMismatch = trail.Errorf(trail.ECONFLICT,
	"Idempotency-Key was already used with a different request")

// retryAfterSeconds is what 429 and 503 answers tell clients to wait;
// storage faults wait for an operator, so they ask for longer.
const (
	retryAfterSeconds        = "5"
	storageRetryAfterSeconds = "30"
)

func httpStatus(err error) int {
	if errors.Is(err, errIdempotencyMismatch) {
		return http.StatusUnprocessableEntity
	}
	if errors.Is(err, errOTLPMediaType) {
		return http.StatusUnsupportedMediaType
	}
	status, _ := trail.HTTPStatus(trail.ErrorCode(err))
	return status
}

// errorBody is the JSON shape of every error answer.
type errorBody struct {
	Error *trail.Error `json:"error"`
}

// error answers r with err. Internal errors are logged with their cause and
// answered with a generic message; unavailable ones are logged too.
func (s *Server) error(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The client went away; nobody reads the answer.
		err = trail.Errorf(trail.EUNAVAILABLE, "request canceled")
	}
	code := trail.ErrorCode(err)
	if _, known := trail.HTTPStatus(code); !known {
		code = trail.EINTERNAL
	}
	e := &trail.Error{Code: code, Message: trail.ErrorMessage(err)}
	var te *trail.Error
	if errors.As(err, &te) {
		e.Details = te.Details
	}
	switch code {
	case trail.EINTERNAL:
		e.Message = "internal error"
		s.logger.ErrorContext(r.Context(), "internal error", "id", info(r).id,
			"method", r.Method, "path", r.URL.Path, "err", err)
	case trail.ESTORAGEFULL, trail.ESTORAGEREADONLY:
		// An operator must act (free space, remount): say so at ERROR.
		s.logger.ErrorContext(r.Context(), "storage fault", "code", code, "id", info(r).id,
			"method", r.Method, "path", r.URL.Path, "err", err)
	case trail.EUNAVAILABLE:
		s.logger.WarnContext(r.Context(), "unavailable", "id", info(r).id,
			"method", r.Method, "path", r.URL.Path, "err", err)
	}
	if info(r).otlp {
		writeOTLPError(w, r, httpStatus(err), e)
		return
	}
	writeError(w, httpStatus(err), e)
}

func writeError(w http.ResponseWriter, status int, e *trail.Error) {
	setRetryAfter(w, status, e)
	writeJSON(w, status, errorBody{e})
}

// setRetryAfter tells clients of a 429 or 503 answer when to try again.
func setRetryAfter(w http.ResponseWriter, status int, e *trail.Error) {
	switch {
	case e.Code == trail.ESTORAGEFULL, e.Code == trail.ESTORAGEREADONLY:
		w.Header().Set("Retry-After", storageRetryAfterSeconds)
	case status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests:
		w.Header().Set("Retry-After", retryAfterSeconds)
	}
}

// writeJSON answers with v as JSON. Encoding our own types cannot fail.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := trail.MarshalJSON(v)
	if err != nil {
		b = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
		status = http.StatusInternalServerError
	}
	writeRawJSON(w, status, b)
}

func writeRawJSON(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(b)
	w.Write([]byte{'\n'})
}
