package httpapi

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/export"
)

// handleExport streams every event matching the filters as CSV or JSON
// Lines. The download is itself recorded as an export.downloaded event
// before the first byte is sent: no unrecorded export.
func (s *Server) handleExport(w http.ResponseWriter, r *http.Request) error {
	q, err := eventQuery(r, nil)
	if err != nil {
		return err
	}
	v := query(r)
	format := v.Get("format")
	if format != "csv" && format != "jsonl" && format != "bundle" {
		return trail.Invalid("format", "required: csv, jsonl or bundle")
	}
	if format == "bundle" {
		if err := s.ledgerReady(); err != nil {
			return err
		}
	}
	if err := s.record(r, apiKey(r).Tenant, "export.downloaded", exportMetadata(format, v)); err != nil {
		return fmt.Errorf("record export: %w", err)
	}
	x := export.NewWriter(w, format, s.now())
	if format == "bundle" {
		// An evidence bundle: each event with its inclusion proof and the
		// checkpoints they prove against (see ledger.BundleWriter).
		x.WithBundle(r.Context(), s.ledger)
	}
	// An error once x started cannot change the status any more: serve
	// logs it and cuts the stream short, which tells the client that the
	// file is incomplete.
	switch {
	case q == nil:
	case format == "bundle":
		err = trail.ExportEvents(r.Context(), s.store, *q, x.WriteEvent)
	default:
		err = trail.ExportJSON(r.Context(), s.store, *q, x.WriteJSON)
	}
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := x.Finish(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

// exportMetadata describes an export in its audit event: the format and
// the filters that were asked for.
func exportMetadata(format string, v url.Values) map[string]any {
	filters := map[string]any{}
	for name, vals := range v {
		switch name {
		case "format":
		case "action":
			filters[name] = vals
		default:
			filters[name] = vals[0]
		}
	}
	return map[string]any{"format": format, "filters": filters}
}
