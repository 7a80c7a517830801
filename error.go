package trail

import (
	"errors"
	"fmt"
	"net/http"
)

// Application error codes. HTTPStatus maps each to one status code.
const (
	EINVALID      = "invalid"      // the request is malformed or breaks a rule
	ETOOLARGE     = "too_large"    // the request body or a part of it is too big
	ENOTFOUND     = "not_found"    // no such resource, or not visible to the caller
	ECONFLICT     = "conflict"     // the request conflicts with stored state
	EUNAUTHORIZED = "unauthorized" // no valid credentials
	EFORBIDDEN    = "forbidden"    // valid credentials without the needed scope
	ERATELIMITED  = "rate_limited" // too many requests
	EUNAVAILABLE  = "unavailable"  // a dependency (the database) is down; retry later
	// ESTORAGEFULL: the store's disk (or PostgreSQL's tablespace) is full;
	// nothing was stored, and writes work again once space is freed.
	ESTORAGEFULL = "storage_full"
	// ESTORAGEREADONLY: the store's file system or database is read-only
	// (remounted after an I/O error, a standby); nothing was stored.
	ESTORAGEREADONLY = "storage_read_only"
	EINTERNAL        = "internal" // a bug or an unexpected failure
)

// statusByCode maps every error code to its HTTP status: the one place
// where that mapping lives, shared by the API and the console.
var statusByCode = map[string]int{
	EINVALID:      http.StatusBadRequest,
	ETOOLARGE:     http.StatusRequestEntityTooLarge,
	ENOTFOUND:     http.StatusNotFound,
	ECONFLICT:     http.StatusConflict,
	EUNAUTHORIZED: http.StatusUnauthorized,
	EFORBIDDEN:    http.StatusForbidden,
	ERATELIMITED:  http.StatusTooManyRequests,
	EUNAVAILABLE:  http.StatusServiceUnavailable,
	// Storage faults are 503, not 507: every client and load balancer
	// retries a 503 after its Retry-After, and the code says what is wrong.
	ESTORAGEFULL:     http.StatusServiceUnavailable,
	ESTORAGEREADONLY: http.StatusServiceUnavailable,
	EINTERNAL:        http.StatusInternalServerError,
}

// HTTPStatus returns the HTTP status of error code and whether code is one
// of Trail's; an unknown code is a bug, answered 500.
func HTTPStatus(code string) (status int, known bool) {
	status, known = statusByCode[code]
	if !known {
		return http.StatusInternalServerError, false
	}
	return status, true
}

// Error is Trail's application error. Its Message is safe to show to the
// caller; internal causes are wrapped with fmt.Errorf and logged, never sent.
type Error struct {
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Details []Detail `json:"details,omitempty"`
}

// Detail names one problem with one field of a request, such as
// {"index": 2, "field": "targets[0].id", "problem": "required"}.
type Detail struct {
	// Index is the position of the event in a batch, when the problem
	// belongs to one event.
	Index   *int   `json:"index,omitempty"`
	Field   string `json:"field"`
	Problem string `json:"problem"`
}

// Error implements the error interface.
func (e *Error) Error() string {
	if len(e.Details) == 0 {
		return fmt.Sprintf("trail: %s: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("trail: %s: %s (%d problems, first %s: %s)", e.Code, e.Message,
		len(e.Details), e.Details[0].Field, e.Details[0].Problem)
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error with one field detail and a message that
// names the field, e.g. Invalid("limit", "must be between 1 and 1000").
func Invalid(field, problem string) *Error {
	return &Error{
		Code:    EINVALID,
		Message: field + ": " + problem,
		Details: []Detail{{Field: field, Problem: problem}},
	}
}

// ErrorCode returns the code of the *Error in err's chain, EINTERNAL for any
// other error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the caller-safe message of the *Error in err's chain,
// or a generic message for internal errors.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// Problems collects field problems while validating, so that one response
// can list every problem at once.
type Problems []Detail

// Add records a problem with field; index < 0 means the problem does not
// belong to one event of a batch.
func (p *Problems) Add(index int, field, problem string) {
	d := Detail{Field: field, Problem: problem}
	if index >= 0 {
		i := index
		d.Index = &i
	}
	*p = append(*p, d)
}

// Err returns nil when there are no problems and an EINVALID *Error listing
// them all otherwise.
func (p Problems) Err() error { return p.ErrIn("events") }

// ErrIn is Err for problems of the items of the body's list named list
// ("logs" for execution logs), which the message names them by, as in
// logs[1].attributes.
func (p Problems) ErrIn(list string) error {
	if len(p) == 0 {
		return nil
	}
	msg := p[0].Field + ": " + p[0].Problem
	if p[0].Index != nil {
		msg = fmt.Sprintf("%s[%d].%s", list, *p[0].Index, msg)
	}
	if len(p) > 1 {
		msg += fmt.Sprintf(" (and %d more problems)", len(p)-1)
	}
	return &Error{Code: EINVALID, Message: msg, Details: p}
}
