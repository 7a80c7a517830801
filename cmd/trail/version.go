package main

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/trailhq/trail"
)

// commit is the VCS revision the binary was built from. make release sets
// it with -ldflags "-X main.commit=..."; when empty, the revision that the
// go command stamped into the build info is used (go build inside a git
// checkout), so a plain `go build` still says what it was built from.
var commit string

// Commit returns the revision the binary was built from, with "-dirty"
// when the checkout had uncommitted changes, or "unknown".
func Commit() string {
	if commit != "" {
		return commit
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "unknown"
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}

// runVersion prints "trail VERSION (commit REVISION)".
func runVersion(_ context.Context, env *Env, args []string) error {
	if len(args) > 0 {
		return usageErrorf("version takes no arguments")
	}
	fmt.Fprintf(env.Stdout, "trail %s (commit %s)\n", trail.Version, Commit())
	return nil
}
