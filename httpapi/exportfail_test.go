package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/teststore"
)

// failingExport is a real store whose export reads fail from the
// failAt-th chunk on. A store that breaks in the middle of a download
// cannot be had on demand, so the fault is injected here.
type failingExport struct {
	trail.Store
	failAt int32
	calls  atomic.Int32
}

func (s *failingExport) ExportChunk(ctx context.Context, q *trail.Query, maxBytes int, c *trail.Chunk) error {
	if s.calls.Add(1) >= s.failAt {
		return trail.Errorf(trail.EUNAVAILABLE, "injected read failure")
	}
	return s.Store.(trail.JSONExporter).ExportChunk(ctx, q, maxBytes, c)
}

// TestExportStoreFailure checks the one place where handlers' errors are
// answered: an error before the download starts is the JSON error answer;
// one after it started cannot change the status, so the stream is cut
// short and the client sees the file is incomplete.
func TestExportStoreFailure(t *testing.T) {
	const n = 8200 // more than one export chunk (8192 events)
	newFailing := func(t *testing.T, failAt int32) (*env, string) {
		s := &failingExport{Store: teststore.SQLite(t), failAt: failAt}
		e := newEnv(t, s)
		appendBulk(t, s, n)
		return e, e.newKey(t, "acme", false, trail.ScopeEventsRead)
	}
	const path = "/v1/events/export?format=jsonl&order=asc&action=bulk.event"

	t.Run("ErrBeforeStart", func(t *testing.T) {
		e, reader := newFailing(t, 1)
		e.do(t, "GET", path, reader, "").wantError(t, http.StatusServiceUnavailable, trail.EUNAVAILABLE, "")
	})
	t.Run("ErrAfterStart", func(t *testing.T) {
		e, reader := newFailing(t, 2)
		req, err := http.NewRequestWithContext(t.Context(), "GET", e.srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+reader)
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status = %d, want 200 (the download had started)", resp.StatusCode)
		}
		body, err := io.ReadAll(resp.Body)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("reading the body: err = %v, want io.ErrUnexpectedEOF (a stream cut short)", err)
		}
		if lines := bytes.Count(body, []byte("\n")); lines >= n {
			t.Fatalf("body holds %d lines, want fewer than %d", lines, n)
		}
		if bytes.Contains(body, []byte(`"error"`)) {
			t.Fatal("an error answer was appended to the download")
		}
	})
}
