package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/ledger"
)

// CSVHeader is the fixed first row of a CSV export. Targets and metadata
// are JSON inside their cells.
var CSVHeader = []string{"id", "occurred_at", "action", "actor_type", "actor_id", "actor_name",
	"targets", "ip", "user_agent", "location", "trace_id", "tenant", "metadata"}

// handleExport streams every event matching the filters as CSV or JSON
// Lines. The download is itself recorded as an export.downloaded event
// before the first byte is sent: no unrecorded export.
func (s *Server) handleExport(w http.ResponseWriter, r *http.Request) {
	q, err := eventQuery(r, exportParams, nil)
	if err != nil {
		s.error(w, r, err)
		return
	}
	v := r.URL.Query()
	format := v.Get("format")
	if format != "csv" && format != "jsonl" && format != "bundle" {
		s.error(w, r, trail.Invalid("format", "required: csv, jsonl or bundle"))
		return
	}
	if format == "bundle" && !s.ledgerReady(w, r) {
		return
	}
	if err := s.record(r, apiKey(r).Tenant, "export.downloaded", exportMetadata(format, v)); err != nil {
		s.error(w, r, fmt.Errorf("record export: %w", err))
		return
	}
	x := newExporter(w, format, s.now())
	if format == "bundle" {
		// An evidence bundle: each event with its inclusion proof and the
		// checkpoints they prove against (see ledger.BundleWriter).
		x.ctx, x.ledger = r.Context(), s.ledger
	}
	switch {
	case q == nil:
	case format == "bundle":
		err = trail.ExportEvents(r.Context(), s.store, *q, x.write)
	default:
		err = trail.ExportJSON(r.Context(), s.store, *q, x.writeJSON)
	}
	if err == nil {
		err = x.finish()
	}
	switch {
	case err == nil:
	case !x.started:
		s.error(w, r, fmt.Errorf("export: %w", err))
	default:
		// The status is sent; only a broken stream tells the client that
		// the file is incomplete.
		if r.Context().Err() == nil {
			s.logger.ErrorContext(r.Context(), "export failed mid-stream", "id", info(r).id, "err", err)
		}
		panic(http.ErrAbortHandler)
	}
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

// exporter writes events in one format into a buffer that it sends
// whenever it holds flushBytes, so that a long export streams rather than
// stalls, without allocating per row. It sends the response header with
// the first event, so that a failure before it still gets a JSON error.
type exporter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	format  string
	name    string
	started bool
	out     []byte // what is not sent yet
	scratch []byte
	ctx     context.Context
	ledger  *ledger.Ledger
	bundle  *ledger.BundleWriter
}

// flushBytes is how much an export buffers before sending it.
const flushBytes = 64 << 10

func newExporter(w http.ResponseWriter, format string, now time.Time) *exporter {
	x := &exporter{
		w: w, rc: http.NewResponseController(w), format: format,
		name: fmt.Sprintf("trail-events-%s.%s", now.UTC().Format("20060102T150405Z"), format),
		out:  make([]byte, 0, flushBytes+16<<10),
	}
	startStream(x.rc) // an export streams past the server's timeouts
	return x
}

func (x *exporter) start() error {
	x.started = true
	h := x.w.Header()
	if x.format == "csv" {
		h.Set("Content-Type", "text/csv; charset=utf-8")
	} else {
		h.Set("Content-Type", "application/jsonl")
	}
	h.Set("Content-Disposition", `attachment; filename="`+x.name+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	x.w.WriteHeader(http.StatusOK)
	if x.format == "csv" {
		x.out = appendCSVHeader(x.out)
	}
	if x.ledger != nil {
		var err error
		x.bundle, err = x.ledger.NewBundle(x)
		return err
	}
	return nil
}

// writeJSON writes one event of a CSV or JSON Lines export, given as its
// JSON (what json.Marshal gives for the trail.Event). A JSON line is that
// JSON itself.
func (x *exporter) writeJSON(data []byte) error {
	if !x.started {
		if err := x.start(); err != nil {
			return err
		}
	}
	if x.format == "csv" {
		var err error
		n := len(x.out)
		if x.out, x.scratch, err = appendCSVRow(x.out, x.scratch, data); err != nil {
			x.out = x.out[:n]
			return err
		}
	} else {
		x.out = append(append(x.out, data...), '\n')
	}
	if len(x.out) >= flushBytes {
		return x.flush()
	}
	return nil
}

// write writes one event of an evidence bundle.
func (x *exporter) write(e *trail.Event) error {
	if !x.started {
		if err := x.start(); err != nil {
			return err
		}
	}
	return x.bundle.Add(x.ctx, e)
}

// Write buffers p; the bundle writer writes through it.
func (x *exporter) Write(p []byte) (int, error) {
	x.out = append(x.out, p...)
	if len(x.out) >= flushBytes {
		return len(p), x.flush()
	}
	return len(p), nil
}

func (x *exporter) flush() error {
	if len(x.out) > 0 {
		extendStream(x.rc)
		if _, err := x.w.Write(x.out); err != nil {
			return err
		}
		x.out = x.out[:0]
	}
	if err := x.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

// finish sends what is buffered; an empty export still gets its header.
func (x *exporter) finish() error {
	if !x.started {
		if err := x.start(); err != nil {
			return err
		}
	}
	return x.flush()
}
