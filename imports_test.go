package trail_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestRootImports keeps the dependency rule of package trail (trail.go):
// the standard library and the JSON v2 module, nothing else.
func TestRootImports(t *testing.T) {
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
			path, _ := strconv.Unquote(imp.Path.Value)
			first, _, _ := strings.Cut(path, "/")
			std := !strings.Contains(first, ".")
			jsonv2 := path == "github.com/go-json-experiment/json" ||
				strings.HasPrefix(path, "github.com/go-json-experiment/json/")
			if !std && !jsonv2 {
				t.Errorf("%s imports %s: package trail may import only the standard library and github.com/go-json-experiment/json", name, path)
			}
		}
	}
}
