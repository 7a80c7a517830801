// Package apidocs serves the API reference for people at /docs: the
// server's own OpenAPI document (/openapi.json) rendered by Redoc, whose
// standalone bundle (npm package redoc, version in RedocVersion; MIT,
// LICENSE.redoc) is embedded so that the page works without the internet.
// scripts/update-redoc.sh replaces the bundle.
package apidocs

import (
	"bytes"
	_ "embed"
	"net/http"
	"time"
)

// RedocVersion is the version of the embedded Redoc bundle.
const RedocVersion = "2.5.0"

var (
	//go:embed index.html
	indexHTML []byte
	//go:embed redoc.standalone.js
	redocJS []byte
)

// csp lets Redoc do what it does: inject its styles and run its search in
// a worker made from a blob; everything else comes from this server only.
const csp = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; " +
	"base-uri 'none'; form-action 'none'"

// Routes registers GET /docs and its script on mux.
func Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /docs", serve("text/html; charset=utf-8", indexHTML))
	mux.HandleFunc("GET /docs/{$}", serve("text/html; charset=utf-8", indexHTML))
	mux.HandleFunc("GET /docs/redoc.standalone.js", serve("text/javascript; charset=utf-8", redocJS))
}

// built is the modification time the embedded files are served with.
var built = time.Now()

func serve(contentType string, body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", contentType)
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "public, max-age=3600")
		http.ServeContent(w, r, "", built, bytes.NewReader(body))
	}
}
