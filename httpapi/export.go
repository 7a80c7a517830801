package httpapi

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// flushEvery is how many events an export buffers before flushing them to
// the client, so that a long export streams rather than stalls.
const flushEvery = 256

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
	if q != nil {
		err = trail.ExportEvents(r.Context(), s.store, *q, x.write)
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

// exporter writes events in one format, sending the response header with
// the first event so that a failure before it still gets a JSON error.
type exporter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	format  string
	name    string
	started bool
	n       int
	buf     *bufio.Writer
	csv     *csv.Writer
	row     []string
	ctx     context.Context
	ledger  *ledger.Ledger
	bundle  *ledger.BundleWriter
}

func newExporter(w http.ResponseWriter, format string, now time.Time) *exporter {
	return &exporter{
		w: w, rc: http.NewResponseController(w), format: format,
		name: fmt.Sprintf("trail-events-%s.%s", now.UTC().Format("20060102T150405Z"), format),
		buf:  bufio.NewWriterSize(w, 32<<10),
		row:  make([]string, len(CSVHeader)),
	}
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
		x.csv = csv.NewWriter(x.buf)
		return x.csv.Write(CSVHeader)
	}
	if x.ledger != nil {
		var err error
		x.bundle, err = x.ledger.NewBundle(x.buf)
		return err
	}
	return nil
}

func (x *exporter) write(e *trail.Event) error {
	if !x.started {
		if err := x.start(); err != nil {
			return err
		}
	}
	var err error
	if x.format == "csv" {
		err = x.csv.Write(csvRow(x.row, e))
	} else if x.bundle != nil {
		err = x.bundle.Add(x.ctx, e)
	} else {
		err = writeJSONLine(x.buf, e)
	}
	if err != nil {
		return err
	}
	if x.n++; x.n%flushEvery == 0 {
		return x.flush()
	}
	return nil
}

func (x *exporter) flush() error {
	if x.csv != nil {
		x.csv.Flush()
		if err := x.csv.Error(); err != nil {
			return err
		}
	}
	if err := x.buf.Flush(); err != nil {
		return err
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

func writeJSONLine(w io.Writer, e *trail.Event) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// csvRow fills row with e's cells in CSVHeader's order.
func csvRow(row []string, e *trail.Event) []string {
	targets, _ := json.Marshal(e.Targets)
	if e.Targets == nil {
		targets = []byte("[]")
	}
	copy(row, []string{
		e.ID, e.OccurredAt.UTC().Format(time.RFC3339Nano), e.Action,
		e.Actor.Type, e.Actor.ID, e.Actor.Name, string(targets),
		e.Context.IP, e.Context.UserAgent, e.Context.Location,
		e.TraceID, e.Tenant, string(e.Metadata),
	})
	return row
}
