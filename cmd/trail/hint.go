package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/trailhq/trail"
)

// hintFirstKey logs how to create a first API key when the store has no
// usable key at all, so that a newcomer is never stuck at a 401. It
// suggests a tenant key, as the README's quick start does, and names the
// platform admin key as the alternative.
func (m *Main) hintFirstKey(ctx context.Context) {
	keys, err := m.Store.Keys(ctx, trail.Scope{All: true})
	if err != nil {
		m.Logger.Warn("list API keys", "err", err)
		return
	}
	now := time.Now()
	for _, k := range keys {
		if k.RevokedAt.IsZero() && (k.ExpiresAt.IsZero() || now.Before(k.ExpiresAt)) {
			return
		}
	}
	prog := ProgramName(os.Args[0])
	m.Logger.Info("no API key yet; create one for tenant acme with this command, in another terminal while the server runs",
		"command", TenantKeyCommand(prog, m.Config.Data, "acme"))
	m.Logger.Info("or a platform key that administers every tenant", "command", AdminKeyCommand(prog, m.Config.Data))
}

// TenantKeyCommand returns the command that creates a key for tenant with
// the scopes of the README's quick start, run as prog on data folder dir.
func TenantKeyCommand(prog, dir, tenant string) string {
	return prog + " keys create --data " + shellQuote(dir) + " --tenant " + shellQuote(tenant) +
		" --scopes events:write,events:read"
}

// AdminKeyCommand returns the command that creates an admin platform key,
// run as prog on data folder dir.
func AdminKeyCommand(prog, dir string) string {
	return prog + " keys create --data " + shellQuote(dir) +
		" --platform --scopes admin,events:write,events:read"
}

// ProgramName returns how the user can run this binary again: "go run
// ./cmd/trail" under `go run` (whose binary sits in a temporary go-build
// folder that `trail` would not find), else the name it was started by.
func ProgramName(arg0 string) string {
	if strings.Contains(filepath.ToSlash(arg0), "/go-build") {
		return "go run ./cmd/trail"
	}
	return shellQuote(arg0)
}

// shellQuote quotes s for a POSIX shell when it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// checkAddrFree fails when addr's port is taken, before serve creates the
// data folder, the store or the ledger key: a server that cannot listen
// should leave nothing behind. Serve still listens for real later; this
// only moves the common failure first.
func checkAddrFree(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("listen on --addr %s: the address is already in use (is another trail serve running? pick another with --addr)", addr)
	}
	if err != nil {
		return fmt.Errorf("listen on --addr %s: %w", addr, err)
	}
	return ln.Close()
}
