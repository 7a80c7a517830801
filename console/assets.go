package console

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// asset is one embedded static file, served at a name that carries a hash
// of its content (console.3f2a9c1e.css), so that browsers may keep it for
// a year: a new release changes the name, never the file behind a name.
type asset struct {
	ctype, etag string
	body, gz    []byte
}

// assetSet is every file under assets/, by hashed name, and the hashed
// URL of each file name for the templates.
type assetSet struct {
	byName map[string]*asset
	urls   map[string]string
}

// assetCache is what a browser may do with a hashed asset.
const assetCache = "public, max-age=31536000, immutable"

// loadAssets hashes and compresses the embedded assets once.
func loadAssets() (*assetSet, error) {
	set := &assetSet{byName: map[string]*asset{}, urls: map[string]string{}}
	entries, err := fs.ReadDir(files, "assets")
	if err != nil {
		return nil, err
	}
	for _, ent := range entries {
		body, err := fs.ReadFile(files, "assets/"+ent.Name())
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:5])
		ext := path.Ext(ent.Name())
		hashed := strings.TrimSuffix(ent.Name(), ext) + "." + hash + ext
		a := &asset{ctype: mime.TypeByExtension(ext), etag: `"` + hash + `"`, body: body}
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		zw.Write(body)
		if err := zw.Close(); err != nil {
			return nil, fmt.Errorf("compress %s: %w", ent.Name(), err)
		}
		if gz.Len() < len(body) {
			a.gz = gz.Bytes()
		}
		set.byName[hashed] = a
		set.urls[ent.Name()] = "/assets/" + hashed
	}
	return set, nil
}

// url is the template function "asset": the hashed URL of a file under
// assets/. An unknown name is an error, so a typo fails the page's parse
// test instead of serving a page without its stylesheet.
func (set *assetSet) url(name string) (string, error) {
	u, ok := set.urls[name]
	if !ok {
		return "", fmt.Errorf("no asset %q", name)
	}
	return u, nil
}

// ServeHTTP serves an asset by hashed name, gzipped to browsers that take
// it. Pages are not compressed: they carry the CSRF token beside text a
// user typed, which compression would leak (BREACH).
func (set *assetSet) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a, ok := set.byName[strings.TrimPrefix(r.URL.Path, "/assets/")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("Cache-Control", assetCache)
	h.Set("ETag", a.etag)
	h.Set("Vary", "Accept-Encoding")
	if r.Header.Get("If-None-Match") == a.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.body
	if a.gz != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		body = a.gz
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// acceptsGzip reports whether an Accept-Encoding header takes gzip: it
// names gzip (or *) without q=0.
func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.ToLower(params), " ", "")
		if q == "q=0" || q == "q=0.0" || q == "q=0.00" || q == "q=0.000" {
			return false
		}
		return true
	}
	return false
}
