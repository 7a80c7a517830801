package main_test

import (
	"net/http"
	"testing"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/httpapi"
)

// TestAuthFailuresAtShutdown: failed authentications counted but not yet
// written when the server stops are written as it stops.
func TestAuthFailuresAtShutdown(t *testing.T) {
	data := t.TempDir()
	m := runMain(t, "--data", data)
	req, _ := http.NewRequest("GET", m.URL()+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer trail_k_00000000000000000000_00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("status %d, want 401", resp.StatusCode)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	e := onlyEvent(t, openData(t, data), trail.SystemTenant, httpapi.ActionAuthFailed)
	if e.Context.IP != "127.0.0.1" {
		t.Errorf("event %s", e.Raw)
	}
}
