package main_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
	main "github.com/trailhq/trail/cmd/trail"
	"github.com/trailhq/trail/internal/teststore"
	"github.com/trailhq/trail/ledger"
)

// TestOperatorLogUpgrade: a data folder from before the operator log holds
// the operator's events in the system log, sealed there. After the upgrade
// the sequencer moves them to the operator log, what the operator does goes
// there too, and trail verify passes over both logs, checking each moved
// seq of the system log against its copy.
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
	teststore.Exec(t, db, "INSERT INTO operator_sort (one, before_pos, next_seq) SELECT 1, next_pos, 0 FROM stream_pos")
	pubkey := strings.TrimSpace(mustCLI(t, nil, "ledger", "pubkey", "--data", data))

	// After the upgrade: the CLI's platform key goes to the operator log,
	// and the first rounds of the sequencer move the old record there.
	createKey(t, data, "--platform", "--scopes", "admin", "--name", "ops")
	seal(t, data)
	seal(t, data)
	if evs := teststore.Recorded(t, openData(t, data), trail.SystemTenant, main.ActionKeyCreated); len(evs) != 0 {
		t.Fatalf("the system log still holds %d key events", len(evs))
	}
	moved := teststore.Recorded(t, openData(t, data), trail.OperatorTenant, main.ActionKeyCreated)
	if len(moved) != 2 || !slices.ContainsFunc(moved, func(e *trail.Event) bool { return e.ID == old.ID && e.Seq == 1 }) {
		t.Fatalf("the operator log's key events %v, want the new one and the old one %s moved there after it", moved, old.ID)
	}

	out := mustCLI(t, nil, "verify", "--data", data, "--pubkey", pubkey)
	for _, want := range []string{"/~system: checkpoint size 1, 0 events verified, 1 moved to the operator log and verified there",
		"/@operator: checkpoint size 2, 2 events verified", "ok:"} {
		if !strings.Contains(out, want) {
			t.Errorf("verify printed no %q:\n%s", want, out)
		}
	}
	out = mustCLI(t, nil, "verify", "--data", data, "--pubkey", pubkey, "--log", trail.OperatorTenant)
	if !strings.Contains(out, "/@operator: checkpoint size 2") {
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
