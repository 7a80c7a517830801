package main_test

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

func TestHealthcheck(t *testing.T) {
	m := startMain(t)
	_, port, _ := net.SplitHostPort(m.Addr())
	t.Run("OK", func(t *testing.T) {
		r := runCLI(t, nil, false, "healthcheck", "--addr", m.Addr())
		if r.code != 0 || !strings.Contains(r.stdout, "200") {
			t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("WildcardHostIsLocal", func(t *testing.T) {
		// In the container TRAIL_ADDR is 0.0.0.0:8080; the check connects
		// to loopback.
		r := runCLI(t, map[string]string{"TRAIL_ADDR": "0.0.0.0:" + port}, false, "healthcheck")
		if r.code != 0 {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
	t.Run("ErrNoServer", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		r := runCLI(t, nil, false, "healthcheck", "--addr", addr, "--timeout", "2s")
		if r.code != 1 || !strings.Contains(r.stderr, "healthcheck") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
}

// TestDocsRoute checks that serve answers /docs with the API reference
// and leaves the console's paths alone.
func TestDocsRoute(t *testing.T) {
	m := startMain(t)
	resp, err := http.Get(m.URL() + "/docs")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `spec-url="/openapi.json"`) {
		t.Errorf("GET /docs: %d\n%s", resp.StatusCode, b)
	}
}
