package console_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

var assetRE = regexp.MustCompile(`(?:href|src)="(/assets/console\.[0-9a-f]{10}\.(?:css|js))"`)

// fetch gets path with the Accept-Encoding header enc, without Go's
// transparent decompression, and returns the response with its raw body.
func (e *env) fetch(t *testing.T, c *http.Client, path, enc string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	req.Header.Set("Accept-Encoding", enc)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// TestAssets checks that the stylesheet and script are served at
// content-hashed names, cached for a year and gzipped for browsers that
// take it, while pages (which carry the CSRF token) are never compressed.
func TestAssets(t *testing.T) {
	e := newEnv(t)
	c := e.signedIn(t, e.owner)
	resp, page := e.fetch(t, c, "/events", "gzip, br")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("page: %d, Content-Encoding %q, want 200 uncompressed", resp.StatusCode, resp.Header.Get("Content-Encoding"))
	}
	if !strings.Contains(string(page), `<link rel="icon" href="data:image/svg+xml,`) {
		t.Error("the page names no favicon")
	}
	urls := assetRE.FindAllStringSubmatch(string(page), -1)
	if len(urls) != 2 {
		t.Fatalf("page links %d hashed assets, want the stylesheet and the script", len(urls))
	}
	for _, m := range urls {
		path := m[1]
		plain, body := e.fetch(t, c, path, "identity")
		zipped, gz := e.fetch(t, c, path, "br;q=1.0, gzip;q=0.8")
		if plain.StatusCode != 200 || zipped.StatusCode != 200 {
			t.Fatalf("%s: %d and %d", path, plain.StatusCode, zipped.StatusCode)
		}
		for _, r := range []*http.Response{plain, zipped} {
			if got := r.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
				t.Errorf("%s: Cache-Control %q", path, got)
			}
			if !strings.Contains(r.Header.Get("Vary"), "Accept-Encoding") {
				t.Errorf("%s: Vary %q", path, r.Header.Get("Vary"))
			}
		}
		if plain.Header.Get("Content-Encoding") != "" || zipped.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("%s: Content-Encoding %q uncompressed, %q with gzip", path,
				plain.Header.Get("Content-Encoding"), zipped.Header.Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(strings.NewReader(string(gz)))
		if err != nil {
			t.Fatal(err)
		}
		unzipped, err := io.ReadAll(zr)
		if err != nil || string(unzipped) != string(body) || len(gz) >= len(body) {
			t.Fatalf("%s: gzip body (%d bytes) does not unzip to the file (%d bytes): %v", path, len(gz), len(body), err)
		}
		if r, _ := e.fetch(t, c, path, "gzip;q=0"); r.Header.Get("Content-Encoding") != "" {
			t.Errorf("%s: gzipped for gzip;q=0", path)
		}
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
		req.Header.Set("If-None-Match", plain.Header.Get("ETag"))
		r, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusNotModified {
			t.Errorf("%s with its ETag: %d, want 304", path, r.StatusCode)
		}
	}
	for _, path := range []string{"/assets/console.css", "/assets/console.0000000000.css", "/assets/"} {
		if r, _ := e.fetch(t, c, path, "gzip"); r.StatusCode != 404 {
			t.Errorf("%s: %d, want 404: only hashed names are served", path, r.StatusCode)
		}
	}
}
