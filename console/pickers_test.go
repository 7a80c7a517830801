package console_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/trailhq/trail"
)

// selectOptions returns the option values of the select named name.
func selectOptions(t *testing.T, body, name string) []string {
	t.Helper()
	sel := regexp.MustCompile(`(?s)<select id="[^"]*" name="` + name + `">(.*?)</select>`).FindStringSubmatch(body)
	if sel == nil {
		t.Fatalf("the page has no select %q", name)
	}
	var out []string
	for _, m := range regexp.MustCompile(`<option value="([^"]*)"`).FindAllStringSubmatch(sel[1], -1) {
		if m[1] != "" {
			out = append(out, m[1])
		}
	}
	return out
}

type actorOption struct{ Value, Label string }

// TestPickers checks the filter form's pickers: the actor suggestions,
// the target type list and an entity's own actions, scoped to the
// viewer's tenant.
func TestPickers(t *testing.T) { forEachStore(t, testPickers) }

func testPickers(t *testing.T, newEnv envMaker) {
	e := newEnv(t)
	e.seed(t, 40)
	c := e.signedIn(t, e.owner)
	t.Run("ActorSuggestions", func(t *testing.T) {
		status, body := e.get(t, c, "/events/actors?prefix=CAR")
		var got []actorOption
		if err := json.Unmarshal([]byte(body), &got); status != http.StatusOK || err != nil {
			t.Fatalf("status %d, %v: %s", status, err, body)
		}
		if want := []actorOption{{"u_carol", "carol@acme.example · user"}}; !slices.Equal(got, want) {
			t.Fatalf("suggestions for CAR = %+v, want %+v", got, want)
		}
		_, body = e.get(t, c, "/events/actors?prefix=u_")
		if strings.Contains(body, "u_gus") || !strings.Contains(body, "u_alice") {
			t.Fatalf("acme's suggestions for u_: %s (no globex actor, acme's alice)", body)
		}
	})
	t.Run("ErrActorSuggestions", func(t *testing.T) {
		for path, field := range map[string]string{
			"/events/actors?name=ada":                           "name",
			"/events/actors?prefix=a&prefix=b":                  "prefix",
			"/events/actors?prefix=" + strings.Repeat("a", 300): "prefix",
			"/events/actors?tenant=globex":                      "tenant",
		} {
			status, body := e.get(t, c, path)
			if status != http.StatusBadRequest || !strings.Contains(body, field) {
				t.Errorf("GET %s: status %d, want 400 naming %s", path, status, field)
			}
		}
		if status, _ := e.get(t, e.signedIn(t, e.member), "/events/actors?prefix=a"); status != http.StatusForbidden {
			t.Errorf("a member's suggestions: status %d, want 403", status)
		}
	})
	t.Run("TargetTypes", func(t *testing.T) {
		_, body := e.get(t, c, "/events")
		if got, want := selectOptions(t, body, "target_type"), []string{"document", "project", "user"}; !slices.Equal(got, want) { // user: the sign-in events
			t.Fatalf("target types %q, want %q", got, want)
		}
		_, body = e.get(t, c, "/events?target_type=invoice")
		if got := selectOptions(t, body, "target_type"); !slices.Contains(got, "invoice") ||
			!strings.Contains(body, `<option value="invoice" selected>`) {
			t.Fatalf("a target type no event has is not shown as the filter in force: %q", got)
		}
	})
	t.Run("EntityActions", func(t *testing.T) {
		_, body := e.get(t, c, "/entity?target_type=document&target_id=d_1042")
		if got, want := selectOptions(t, body, "action"), []string{"document.shared"}; !slices.Equal(got, want) {
			t.Fatalf("the entity's actions %q, want %q", got, want)
		}
		_, body = e.get(t, c, "/events")
		if got := selectOptions(t, body, "action"); len(got) < 7 || slices.Contains(got, "secret.globex_only") {
			t.Fatalf("the audit log's actions %q: want acme's seven and the system events'", got)
		}
	})
	t.Run("OperatorSuggestions", func(t *testing.T) {
		op := e.newUser(t, trail.OperatorTenant, "ops@trail.example", trail.RoleOwner)
		oc := e.signedIn(t, op)
		_, body := e.get(t, oc, "/events/actors?tenant=globex&prefix=u_")
		if !strings.Contains(body, "u_gus") || strings.Contains(body, "u_alice") {
			t.Fatalf("the operator's suggestions in globex: %s", body)
		}
		if got := e.recorded(t, "globex", trail.ActionTenantViewedByOperator); len(got) != 1 {
			t.Fatalf("globex has %d operator views recorded, want 1", len(got))
		}
	})
}
