package main_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
	main "github.com/trailhq/trail/cmd/trail"
	"github.com/trailhq/trail/ledger"
)

// TestOperatorLogUpgrade: a data folder from before the operator log holds
// the operator's events in the system log, sealed there. They stay; what
// the operator does after the upgrade goes to the operator log, and trail
// verify passes over both logs.
func TestOperatorLogUpgrade(t *testing.T) {
	data := newData(t)
	old := trail.NewSystemEvent("", "api_key.created", trail.Actor{Type: trail.ActorSystem, ID: "cli", Name: "trail keys"},
		trail.Context{}, time.Now().Add(-time.Hour))
	old.Tenant = trail.SystemTenant // where an older Trail recorded it
	db := openData(t, data)
	if err := db.AppendBatches(t.Context(), []*trail.Batch{{Events: []*trail.Event{old}}}); err != nil {
		t.Fatal(err)
	}
	seal(t, data) // as the older version's server did
	pubkey := strings.TrimSpace(mustCLI(t, nil, "ledger", "pubkey", "--data", data))

	// After the upgrade: the CLI's platform key goes to the operator log.
	createKey(t, data, "--platform", "--scopes", "admin", "--name", "ops")
	onlyEvent(t, openData(t, data), trail.OperatorTenant, main.ActionKeyCreated)
	if got := onlyEvent(t, openData(t, data), trail.SystemTenant, main.ActionKeyCreated); got.ID != old.ID {
		t.Fatalf("the system log's key event is %s, want the old one %s, kept in place", got.ID, old.ID)
	}

	seal(t, data)
	out := mustCLI(t, nil, "verify", "--data", data, "--pubkey", pubkey)
	for _, want := range []string{"/~system: checkpoint size 1, 1 events verified", "/@operator: checkpoint size 1, 1 events verified", "ok:"} {
		if !strings.Contains(out, want) {
			t.Errorf("verify printed no %q:\n%s", want, out)
		}
	}
	out = mustCLI(t, nil, "verify", "--data", data, "--pubkey", pubkey, "--log", trail.OperatorTenant)
	if !strings.Contains(out, "/@operator: checkpoint size 1") {
		t.Errorf("verify --log @operator printed:\n%s", out)
	}
	if vkey := mustCLI(t, nil, "ledger", "pubkey", "--data", data, "--log", trail.OperatorTenant); !strings.Contains(vkey, "/@operator+") {
		t.Errorf("the operator log's key %q", vkey)
	}
}

// seal signs checkpoints over every event of the data folder, as a
// running server's sequencer does.
func seal(t *testing.T, data string) {
	t.Helper()
	key, err := ledger.LoadOrCreateKey(filepath.Join(data, ledger.KeyFile), ledger.DefaultOrigin)
	if err != nil {
		t.Fatal(err)
	}
	led, err := ledger.New(openData(t, data), ledger.Config{Key: key, Origin: ledger.DefaultOrigin})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := led.Step(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestUsersCreatePlatform: --platform makes an operator console user, of
// no tenant and role owner, and records it in the operator log.
func TestUsersCreatePlatform(t *testing.T) { forEachCLIStore(t, testUsersCreatePlatform) }

func testUsersCreatePlatform(t *testing.T, st cliStore) {
	r := usersCLI(t, userPassword+"\n", append([]string{"create", "--platform", "--email", "ops@trail.example",
		"--password-stdin"}, st.args...)...)
	if r.code != 0 || !strings.Contains(r.stdout, `organization "@operator"`) {
		t.Fatalf("create --platform: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	u, err := st.open(t).UserByEmail(t.Context(), trail.OperatorTenant, "ops@trail.example")
	if err != nil || !u.Platform() || u.Role != trail.RoleOwner {
		t.Fatalf("stored platform user %+v: %v", u, err)
	}
	onlyEvent(t, st.open(t), trail.OperatorTenant, trail.ActionUserCreated)
	t.Run("ErrPlatformAndTenant", func(t *testing.T) {
		r := usersCLI(t, userPassword+"\n", append([]string{"create", "--platform", "--tenant", "acme",
			"--email", "x@trail.example", "--password-stdin"}, st.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, "--platform") {
			t.Fatalf("--platform with --tenant: exit %d, %s", r.code, r.stderr)
		}
	})
	t.Run("ErrTenantOperator", func(t *testing.T) {
		r := usersCLI(t, userPassword+"\n", append([]string{"create", "--tenant", "@operator",
			"--email", "y@trail.example", "--role", "owner", "--password-stdin"}, st.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, "--tenant") {
			t.Fatalf("--tenant @operator: exit %d, %s", r.code, r.stderr)
		}
	})
}
