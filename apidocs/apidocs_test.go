package apidocs_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/trailhq/trail/apidocs"
	"github.com/trailhq/trail/internal/testenv"
)

// newServer serves /docs and the real OpenAPI document of httpapi.
func newServer(t *testing.T) *httptest.Server {
	spec, err := os.ReadFile("../httpapi/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	apidocs.Routes(mux)
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(spec)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string) (*http.Response, string) {
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestDocsRoutes(t *testing.T) {
	srv := newServer(t)
	for _, path := range []string{"/docs", "/docs/"} {
		resp, body := get(t, srv.URL+path)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(body, `spec-url="/openapi.json"`) || !strings.Contains(body, "/docs/redoc.standalone.js") {
			t.Errorf("GET %s: %d %s\n%s", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		if resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s: no Content-Security-Policy", path)
		}
	}
	resp, body := get(t, srv.URL+"/docs/redoc.standalone.js")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") || len(body) < 100000 {
		t.Errorf("GET /docs/redoc.standalone.js: %d %s, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
	}
	if resp, _ := get(t, srv.URL+"/docs/nothing"); resp.StatusCode != 404 {
		t.Errorf("GET /docs/nothing: %d", resp.StatusCode)
	}
}

// TestDocsRenders opens /docs in headless Chromium, under the page's own
// Content-Security-Policy and with no network but the test server, and
// waits for Redoc to show the API's operations.
func TestDocsRenders(t *testing.T) {
	path, err := exec.LookPath("chromium")
	testenv.Require(t, "chromium", "apt-get install chromium", err)
	srv := newServer(t)
	dir := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.UserDataDir(dir), chromedp.Flag("disable-component-update", true))
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer acancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	tctx, tcancel := context.WithTimeout(ctx, 60*time.Second)
	defer tcancel()
	if err := chromedp.Do(tctx, chromedp.Navigate(srv.URL+"/docs")); err != nil {
		t.Fatalf("navigate: %v", err)
	}
	var text string
	if !testenv.Poll(45*time.Second, func() bool {
		text, err = chromedp.Run(tctx, chromedp.Evaluate[string]("document.body.innerText"))
		return err == nil && strings.Contains(text, "Trail API") && strings.Contains(text, "/v1/events")
	}) {
		t.Fatalf("Redoc did not render the API reference within 45s (%v); the page says:\n%s", err, trim(text))
	}
}

func trim(s string) string {
	if len(s) > 2000 {
		return s[:2000] + fmt.Sprintf("... (%d bytes)", len(s))
	}
	return s
}
