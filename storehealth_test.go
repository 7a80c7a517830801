package trail_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/trailhq/trail"
)

func TestStoreHealth(t *testing.T) {
	var logs bytes.Buffer
	var h trail.StoreHealth
	h.SetLogger(slog.New(slog.NewTextHandler(&logs, nil)))
	if h.Err() != nil {
		t.Fatal("the zero StoreHealth is not healthy")
	}
	h.Observe(trail.Invalid("action", "required"))
	h.Observe(errors.New("some bug"))
	if h.Err() != nil {
		t.Fatal("errors that are no storage faults made the store unhealthy")
	}
	full := trail.Errorf(trail.ESTORAGEFULL, "the database's disk is full")
	h.Observe(full)
	h.Observe(full)
	if got := trail.ErrorCode(h.Err()); got != trail.ESTORAGEFULL {
		t.Fatalf("after a full disk: %q", got)
	}
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
		t.Errorf("%d ERROR lines for one fault that repeats, want 1:\n%s", n, logs.String())
	}
	if got := h.Faults()[trail.ESTORAGEFULL]; got != 2 {
		t.Errorf("Faults()[storage_full] = %d, want 2", got)
	}
	h.Observe(nil)
	if h.Err() != nil || !strings.Contains(logs.String(), "store recovered") {
		t.Errorf("a successful write did not make the store healthy, or was not logged:\n%s", logs.String())
	}
}
