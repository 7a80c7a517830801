package export

import (
	"context"
	"net/http"
	"time"

	"github.com/trailhq/trail"
)

// Stream writes the events that q selects as a download in format
// ("csv" or "jsonl"), in the same layout as GET /v1/events/export, so the
// web console's export button and the API produce the same files. The
// store applies q's full-text search (q.Search) like every other filter.
// Recording the export is the caller's job.
//
// The response header is sent with the first event. An error before it
// may still be answered with an error page; an error after it means the
// file is incomplete, and the caller should abort the response
// (panic(http.ErrAbortHandler)) so the client sees it broken.
func Stream(ctx context.Context, w http.ResponseWriter, s trail.EventStore, q trail.Query,
	format string, now time.Time) error {
	if format != "csv" && format != "jsonl" {
		return trail.Invalid("format", "required: csv or jsonl")
	}
	x := NewWriter(w, format, now)
	if err := trail.ExportJSON(ctx, s, q, x.WriteJSON); err != nil {
		return err
	}
	return x.Finish()
}
