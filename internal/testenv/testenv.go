// Package testenv holds the helpers every Trail test shares: Eventually
// (and Poll under it), which polls a condition with a deadline (tests
// never sleep to synchronise), and Require, which decides what a test does
// when an outside program or privilege it needs (Chromium, rsyslog,
// versitygw, Docker, systemd-analyze, root, a tmpfs mount) is missing.
//
// A missing requirement skips the test with the reason on a developer's
// machine, so a plain `go test ./...` passes without them; where
// TRAIL_REQUIRE_ALL is set (scripts/test.sh sets it) or CI=true, it fails
// the test instead, so CI never skips silently.
package testenv

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Eventually calls cond until it returns true, and fails the test with
// what when timeout passes first. cond runs on the test's goroutine and may
// call tb.Fatal.
func Eventually(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	if !Poll(timeout, cond) {
		tb.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}

// Poll calls cond until it returns true or timeout passes, and reports
// whether cond held. It is Eventually for a test whose failure message
// names the state cond saw last. It starts polling at 1 ms and backs off to
// at most 50 ms, so fast conditions cost little and slow ones do not spin.
func Poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	wait := time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(wait)
		if wait < 50*time.Millisecond {
			wait *= 2
		}
	}
	return true
}

// Required reports whether tests must fail, not skip, when something they
// need is missing: TRAIL_REQUIRE_ALL is set to anything but "" or "0", or
// CI is "true".
func Required() bool {
	v := os.Getenv("TRAIL_REQUIRE_ALL")
	return (v != "" && v != "0") || os.Getenv("CI") == "true"
}

// Require does nothing when err is nil. Otherwise what (the missing
// program or privilege) and err are the reason, and hint says how to get
// it (for example "apt-get install chromium"): the test fails with them
// when Required, and is skipped with them otherwise.
func Require(tb testing.TB, what, hint string, err error) {
	tb.Helper()
	if err == nil {
		return
	}
	msg := what + ": " + err.Error()
	if hint != "" {
		msg += " (" + hint + ")"
	}
	if Required() {
		tb.Fatal(msg + "; TRAIL_REQUIRE_ALL or CI=true is set, so this test may not be skipped")
	}
	tb.Skip(msg + "; skipped, and set TRAIL_REQUIRE_ALL=1 to make this a failure")
}

// Imports returns the import paths of the package in the current folder
// (its non-test files), each with the file that imports it, for tests that
// keep a package's dependency rule.
func Imports(tb testing.TB) map[string]string {
	tb.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		tb.Fatal(err)
	}
	imports := map[string]string{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			tb.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			imports[path] = name
		}
	}
	return imports
}
