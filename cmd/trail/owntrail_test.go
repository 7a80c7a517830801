package main_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/httpapi"
	"github.com/trailhq/trail/internal/pgtest"
)

// TestAuthFailuresAtShutdown: failed authentications counted but not yet
// written when the server stops are written as it stops, on both stores.
func TestAuthFailuresAtShutdown(t *testing.T) { forEachCLIStore(t, testAuthFailuresAtShutdown) }

func testAuthFailuresAtShutdown(t *testing.T, st cliStore) {
	m := runMain(t, st.args...)
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
	e := onlyEvent(t, st.open(t), trail.OperatorTenant, httpapi.ActionAuthFailed)
	if e.Context.IP != "127.0.0.1" {
		t.Errorf("event %s", e.Raw)
	}
}

// TestSettingsUpdated: a start with other settings than the last start
// records settings.updated naming what changed, never a value; a start
// with the same settings records nothing. Both stores keep the
// fingerprint.
func TestSettingsUpdated(t *testing.T) {
	const token = "metrics-token-0123456789abcdef"
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			base := []string{"--data", t.TempDir()}
			if store == "postgres" {
				base = append(base, "--store", pgtest.NewDB(t))
			}
			for _, extra := range [][]string{nil, nil, {"--log-level", "warn", "--metrics-token", token}} {
				if err := runMain(t, append(base, extra...)...).Close(); err != nil {
					t.Fatal(err)
				}
			}
			m := runMain(t, append(base, "--log-level", "warn", "--metrics-token", token)...)
			defer m.Close()
			page, err := m.Store.Events(t.Context(), &trail.Query{Scope: trail.Scope{All: true},
				Actions: []string{trail.ActionSettingsUpdated}})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Events) != 1 {
				t.Fatalf("%d settings.updated events, want 1", len(page.Events))
			}
			e := page.Events[0]
			var meta struct{ Changed []string }
			json.Unmarshal(e.Metadata, &meta)
			if got, want := strings.Join(meta.Changed, ","), "log_level,metrics_token"; got != want {
				t.Errorf("changed %s, want %s", got, want)
			}
			if strings.Contains(string(e.Raw), token) || e.Tenant != trail.OperatorTenant || e.Actor.ID != "config" {
				t.Errorf("event %s", e.Raw)
			}
		})
	}
}
