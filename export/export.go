// Package export writes Trail's event exports (CSV, JSON Lines and
// evidence bundles) to an HTTP response. The API (GET /v1/events/export)
// and the web console's export button both use it, so they produce the
// same files; recording an export as export.downloaded stays with the
// caller.
package export

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/ledger"
)

// CSVHeader is the fixed first row of a CSV export. Targets (all of them),
// metadata and actor_metadata are JSON inside their cells; target_type,
// target_id and target_name flatten the first target. Columns are only
// ever added at the end, so that a reader by position keeps working
// (docs/api.md lists them).
var CSVHeader = []string{"id", "occurred_at", "action", "actor_type", "actor_id", "actor_name",
	"targets", "ip", "user_agent", "location", "trace_id", "tenant", "metadata",
	"version", "received_at", "actor_metadata", "target_type", "target_id", "target_name"}

// Writer writes events in one format into a buffer that it sends
// whenever it holds flushBytes, so that a long export streams rather than
// stalls, without allocating per row. It sends the response header with
// the first event, so that a failure before it still gets a JSON error.
type Writer struct {
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

// streamWriteTimeout bounds each write of a streamed export.
const streamWriteTimeout = time.Minute

// NewWriter returns a Writer of an export in format ("csv", "jsonl" or
// "bundle") to w, whose file name carries now. It frees the response from
// the server's timeouts: an export streams past them.
func NewWriter(w http.ResponseWriter, format string, now time.Time) *Writer {
	x := &Writer{
		w: w, rc: http.NewResponseController(w), format: format,
		name: fmt.Sprintf("trail-events-%s.%s", now.UTC().Format("20060102T150405Z"), format),
		out:  make([]byte, 0, flushBytes+16<<10),
	}
	startStream(x.rc)
	return x
}

// WithBundle makes x an evidence bundle: each event with its inclusion
// proof and the checkpoints they prove against (see ledger.BundleWriter),
// read from l under ctx. Events are then given with WriteEvent.
func (x *Writer) WithBundle(ctx context.Context, l *ledger.Ledger) {
	x.ctx, x.ledger = ctx, l
}

// Started reports whether the response header is sent: when it is not,
// the caller may still answer with an error.
func (x *Writer) Started() bool { return x.started }

func (x *Writer) start() error {
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
		x.bundle, err = x.ledger.NewBundle(bundleOut{x})
		return err
	}
	return nil
}

// WriteJSON writes one event of a CSV or JSON Lines export, given as its
// JSON (what json.Marshal gives for the trail.Event). A JSON line is that
// JSON itself.
func (x *Writer) WriteJSON(data []byte) error {
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

// WriteEvent writes one event of an evidence bundle.
func (x *Writer) WriteEvent(e *trail.Event) error {
	if !x.started {
		if err := x.start(); err != nil {
			return err
		}
	}
	return x.bundle.Add(x.ctx, e)
}

// bundleOut is what the bundle writer writes through: x's buffer.
type bundleOut struct{ x *Writer }

// Write buffers p.
func (b bundleOut) Write(p []byte) (int, error) {
	x := b.x
	x.out = append(x.out, p...)
	if len(x.out) >= flushBytes {
		return len(p), x.flush()
	}
	return len(p), nil
}

func (x *Writer) flush() error {
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

// Finish sends what is buffered; an empty export still gets its header.
func (x *Writer) Finish() error {
	if !x.started {
		if err := x.start(); err != nil {
			return err
		}
	}
	return x.flush()
}

// startStream frees a streamed response from the server's timeouts: it
// reads nothing more (an expired read deadline would cancel the request's
// context), and each write gets its own deadline through extendStream.
func startStream(rc *http.ResponseController) {
	rc.SetReadDeadline(time.Time{})
	extendStream(rc)
}

// extendStream gives the next write of a streamed response
// streamWriteTimeout. Writers that do not support deadlines (tests'
// recorders) are fine without.
func extendStream(rc *http.ResponseController) {
	rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
}
