package trail_test

import (
	"strings"
	"testing"

	"github.com/trailhq/trail/internal/testenv"
)

// TestRootImports keeps the dependency rule of package trail (trail.go):
// the standard library and the JSON v2 module, nothing else.
func TestRootImports(t *testing.T) {
	for path, file := range testenv.Imports(t) {
		first, _, _ := strings.Cut(path, "/")
		std := !strings.Contains(first, ".")
		jsonv2 := path == "github.com/go-json-experiment/json" ||
			strings.HasPrefix(path, "github.com/go-json-experiment/json/")
		if !std && !jsonv2 {
			t.Errorf("%s imports %s: package trail may import only the standard library and github.com/go-json-experiment/json", file, path)
		}
	}
}
