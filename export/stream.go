package export

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/trailhq/trail"
)

// Stream writes the events that q selects as a download in format
// ("csv" or "jsonl"), in the same layout as GET /v1/events/export, so the
// web console's export button and the API produce the same files. keep,
// when not nil, drops events it reports false for (the console's free-text
// filter). Recording the export is the caller's job.
//
// The response header is sent with the first event. An error before it
// may still be answered with an error page; an error after it means the
// file is incomplete, and the caller should abort the response
// (panic(http.ErrAbortHandler)) so the client sees it broken.
func Stream(ctx context.Context, w http.ResponseWriter, s trail.EventStore, q trail.Query,
	format string, now time.Time, keep func(*trail.Event) bool) error {
	if format != "csv" && format != "jsonl" {
		return trail.Invalid("format", "required: csv or jsonl")
	}
	x := NewWriter(w, format, now)
	err := trail.ExportJSON(ctx, s, q, func(data []byte) error {
		if keep != nil {
			e, err := decodeExported(data)
			if err != nil {
				return err
			}
			if !keep(e) {
				return nil
			}
		}
		return x.WriteJSON(data)
	})
	if err != nil {
		return err
	}
	return x.Finish()
}

// decodeExported decodes an event's JSON for the keep filter, with the
// root's codec, as the stores do. The event is not kept past keep.
func decodeExported(data []byte) (*trail.Event, error) {
	e, err := trail.DecodeEvent(data)
	if err != nil {
		return nil, fmt.Errorf("export: decode event: %w", err)
	}
	return e, nil
}
