package console_test

import (
	"testing"

	"github.com/trailhq/trail/internal/testenv"
)

// TestNoHTTPAPIImport keeps the console beside the API, not on top of it:
// what both need (exports, the error-to-status table) lives in packages
// they share.
func TestNoHTTPAPIImport(t *testing.T) {
	if file, ok := testenv.Imports(t)["github.com/trailhq/trail/httpapi"]; ok {
		t.Errorf("%s imports github.com/trailhq/trail/httpapi: share code through a package both use (export, trail)", file)
	}
}
