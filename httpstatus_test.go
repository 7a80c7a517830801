package trail_test

import (
	"net/http"
	"testing"

	"github.com/trailhq/trail"
)

// TestHTTPStatus pins the one error-code-to-status table that the API and
// the console share.
func TestHTTPStatus(t *testing.T) {
	for code, want := range map[string]int{
		trail.EINVALID:         http.StatusBadRequest,
		trail.ETOOLARGE:        http.StatusRequestEntityTooLarge,
		trail.ENOTFOUND:        http.StatusNotFound,
		trail.ECONFLICT:        http.StatusConflict,
		trail.EUNAUTHORIZED:    http.StatusUnauthorized,
		trail.EFORBIDDEN:       http.StatusForbidden,
		trail.ERATELIMITED:     http.StatusTooManyRequests,
		trail.EUNAVAILABLE:     http.StatusServiceUnavailable,
		trail.ESTORAGEFULL:     http.StatusServiceUnavailable,
		trail.ESTORAGEREADONLY: http.StatusServiceUnavailable,
		trail.EINTERNAL:        http.StatusInternalServerError,
	} {
		if got, known := trail.HTTPStatus(code); got != want || !known {
			t.Errorf("HTTPStatus(%q) = %d, %v; want %d, true", code, got, known, want)
		}
	}
	for _, code := range []string{"", "bogus"} {
		if got, known := trail.HTTPStatus(code); got != http.StatusInternalServerError || known {
			t.Errorf("HTTPStatus(%q) = %d, %v; want 500, false", code, got, known)
		}
	}
}
