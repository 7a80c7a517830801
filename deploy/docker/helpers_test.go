package docker_test

import (
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/trailhq/trail/internal/pgtest"
)

// TestMain stops the PostgreSQL test server and the shared Docker daemon,
// and removes the image and the built binary.
func TestMain(m *testing.M) {
	code := pgtest.Main(m)
	cleanupShared()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// trailBinary builds the trail binary for the host once per test binary.
func trailBinary(t *testing.T) string {
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "trail-docker-test-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "trail")
		if out, err := exec.Command("go", "build", "-o", binPath, "../../cmd/trail").CombinedOutput(); err != nil {
			binErr = err
			t.Logf("%s", out)
		}
	})
	if binErr != nil {
		t.Fatalf("go build: %v", binErr)
	}
	return binPath
}

// mustRun runs a command that must succeed and returns its stdout.
func mustRun(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// socketDir returns the unix socket folder of a pgtest DSN, which the
// containers mount to reach the server.
func socketDir(t *testing.T, dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Query().Get("host") == "" {
		t.Fatalf("DSN %q has no socket folder", dsn)
	}
	return u.Query().Get("host")
}

func jsonField(t *testing.T, s, field string) string {
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil || m[field] == "" {
		t.Fatalf("no %s in %q", field, s)
	}
	return m[field]
}
