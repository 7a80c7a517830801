package console

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"slices"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/export"
)

// handleExport downloads the current filtered view, every page of it, as
// CSV or JSON Lines in the API's export layout. The download is recorded as
// export.downloaded before the first byte is sent, so it is a POST with the
// form's CSRF token (checked by signedIn): a link from another site cannot
// make a signed-in browser export, nor record that it did. The filters
// come from the form's body only.
func (s *Server) handleExport(w http.ResponseWriter, r *http.Request, v *viewer) error {
	if err := exportURLParams(query(r)); err != nil {
		return err
	}
	raw := url.Values{}
	for k, vals := range r.PostForm {
		if k != "csrf" {
			raw[k] = vals
		}
	}
	format := raw.Get("format")
	switch {
	case len(raw["format"]) > 1:
		return trail.Invalid("format", "given more than once")
	case format != "csv" && format != "jsonl":
		return trail.Invalid("format", "must be csv or jsonl")
	}
	raw.Del("format")
	f, err := parseFilters(raw, v.user.Scope())
	if err != nil {
		return err
	}
	filters := map[string]any{}
	for k, vals := range f.values {
		if k == "action" {
			filters[k] = vals
		} else {
			filters[k] = vals[0]
		}
	}
	meta, _ := json.Marshal(map[string]any{"format": format, "filters": filters, "source": "console"})
	if err := s.audit(r.Context(), v.user.Tenant, trail.ActionExportDownloaded, v.user.Actor(),
		s.clientContext(r), meta); err != nil {
		return err
	}
	// An error once the stream started is logged and the stream cut short
	// by signedIn (see fail): a broken stream tells the browser that the
	// file is incomplete.
	return export.Stream(r.Context(), w, s.store, *f.query, format, s.now())
}

// exportURLParams refuses parameters in the export's URL. The filters are
// read from the form only, so a filter in the URL would be dropped
// silently and the export would hold more than was asked.
func exportURLParams(q url.Values) error {
	var p trail.Problems
	for _, name := range slices.Sorted(maps.Keys(q)) {
		p.Add(-1, name, "not read from the URL: send the export's filters in the form")
	}
	return p.Err()
}
