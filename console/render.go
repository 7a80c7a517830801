package console

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"time"

	"github.com/trailhq/trail"
)

//go:embed templates assets
var files embed.FS

// pageNames are the templates under templates/ that render a whole page;
// each is parsed with the layout and the shared partials.
var pageNames = []string{"login", "events", "event", "settings", "users", "account", "reset", "error", "sso", "mfa",
	"retention", "alerts", "alert", "streams", "schemas", "schema"}

// pages holds one parsed template set per page.
type pages struct {
	sets map[string]*template.Template
}

func parsePages(assets *assetSet) (*pages, error) {
	p := &pages{sets: make(map[string]*template.Template)}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).Funcs(template.FuncMap{"asset": assets.url}).ParseFS(files,
			"templates/layout.html", "templates/partials.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse console template %s: %w", name, err)
		}
		p.sets[name] = t
	}
	return p, nil
}

// view is what every page template gets.
type view struct {
	Title  string
	User   *trail.User
	CSRF   string
	Nav    string // the active navigation item
	Status int
	Data   any
}

// render writes page name with status. Rendering into a buffer first means
// a template error becomes a clean 500, not half a page.
func (s *Server) render(w http.ResponseWriter, status int, name string, v *view) {
	var buf bytes.Buffer
	if err := s.pages.sets[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		s.logger.Error("render console page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// newView fills the fields that come from the viewer.
func newView(v *viewer, title, nav string, data any) *view {
	pv := &view{Title: title, Nav: nav, Data: data, Status: http.StatusOK}
	if v != nil {
		pv.User, pv.CSRF = v.user, v.session.CSRF
	}
	return pv
}

// errorPage renders err as a page; internal details are logged, not shown.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, v *viewer, err error) {
	code := trail.ErrorCode(err)
	status, _ := trail.HTTPStatus(code)
	if status >= 500 {
		s.logger.Error("console request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	titles := map[int]string{
		400: "Bad request", 401: "Sign in required", 403: "Access denied", 404: "Not found",
		409: "Conflict", 413: "Too large", 429: "Too many requests", 500: "Something went wrong",
		503: "Try again later",
	}
	pv := newView(v, titles[status], "", trail.ErrorMessage(err))
	pv.Status = status
	s.render(w, status, "error", pv)
}

func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	v, _ := s.viewer(r)
	s.errorPage(w, r, v, trail.Errorf(trail.ENOTFOUND, "there is no page at %s", r.URL.Path))
}

// funcs are the template helpers.
var funcs = template.FuncMap{
	"fmtTime":   fmtTime,
	"isoTime":   func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) },
	"pretty":    prettyJSON,
	"logTime":   logTime,
	"rawJSON":   rawJSON,
	"entityURL": entityURL,
	"filterURL": filterURL,
	"eventURL":  func(id string) string { return "/events/" + url.PathEscape(id) },
	"tenantName": func(t string) string {
		if t == trail.SystemTenant {
			return "system"
		}
		if t == trail.OperatorTenant {
			return "operator"
		}
		return t
	},
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

// prettyJSON indents a JSON value for display; "" when there is none.
func prettyJSON(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return string(raw)
	}
	return buf.String()
}

// entityURL is the timeline of the entity with type and id.
func entityURL(typ, id string) string {
	return "/entity?" + url.Values{"target_type": {typ}, "target_id": {id}}.Encode()
}

// filterURL is the audit log filtered by one parameter.
func filterURL(key, value string) string {
	return "/events?" + url.Values{key: {value}}.Encode()
}

// eventJSON is the event as the API returns it, indented.
func eventJSON(e *trail.Event) string {
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return ""
	}
	return string(b)
}
