package console_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoHTTPAPIImport keeps the console beside the API, not on top of it:
// what both need (exports, the error-to-status table) lives in packages
// they share.
func TestNoHTTPAPIImport(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if path, _ := strconv.Unquote(imp.Path.Value); path == "github.com/trailhq/trail/httpapi" {
				t.Errorf("%s imports %s: share code through a package both use (export, trail)", name, path)
			}
		}
	}
}
