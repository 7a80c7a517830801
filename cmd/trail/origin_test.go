package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailhq/trail"
	main "github.com/trailhq/trail/cmd/trail"
	"github.com/trailhq/trail/forward"
)

// wantCLIOrigin checks that e names who ran command: the OS user, the host
// and the sudo user in the actor's metadata, trail-cli/<version> as the
// context's user agent.
func wantCLIOrigin(tb testing.TB, e *trail.Event, command, sudoUser string) {
	tb.Helper()
	u, err := user.Current()
	if err != nil {
		tb.Fatal(err)
	}
	host, _ := os.Hostname()
	var meta map[string]string
	if err := json.Unmarshal(e.Actor.Metadata, &meta); err != nil {
		tb.Fatalf("%s actor metadata %s: %v", e.Action, e.Actor.Metadata, err)
	}
	want := map[string]string{"os_user": u.Username, "host": host}
	if sudoUser != "" {
		want["sudo_user"] = sudoUser
	}
	if got, want := e.Actor, (trail.Actor{Type: trail.ActorSystem, ID: "cli", Name: command}); got.Type != want.Type ||
		got.ID != want.ID || got.Name != want.Name {
		tb.Errorf("%s actor = %+v, want %+v", e.Action, got, want)
	}
	for k, v := range want {
		if meta[k] != v {
			tb.Errorf("%s actor metadata %s = %q, want %q (all: %v)", e.Action, k, meta[k], v, meta)
		}
	}
	if got, want := e.Context.UserAgent, "trail-cli/"+trail.Version; got != want {
		tb.Errorf("%s user agent = %q, want %q", e.Action, got, want)
	}
}

// TestCLIRecordsWhoRanIt: every CLI command that writes names the OS user
// and host that ran it.
func TestCLIRecordsWhoRanIt(t *testing.T) { forEachCLIStore(t, testCLIRecordsWhoRanIt) }

func testCLIRecordsWhoRanIt(t *testing.T, st cliStore) {
	sudo := map[string]string{"SUDO_USER": "alice"}
	cli := func(args ...string) []string { return append(args, st.args...) }
	out := mustCLI(t, sudo, cli("keys", "create", "--tenant", "acme", "--scopes", "events:read", "--output", "json")...)
	var k struct{ ID string }
	if err := json.Unmarshal([]byte(out), &k); err != nil {
		t.Fatal(err)
	}
	mustCLI(t, nil, cli("keys", "revoke", k.ID)...)

	var stdout, stderr bytes.Buffer
	e := &main.Env{Stdin: strings.NewReader(userPassword + "\n"), Stdout: &stdout, Stderr: &stderr, Getenv: env(sudo)}
	if code := main.Run(context.Background(), e, cli("users", "create", "--tenant", "acme",
		"--email", "a@example.com", "--role", "admin", "--password-stdin")); code != 0 {
		t.Fatalf("users create: exit %d: %s", code, stderr.String())
	}
	mustCLI(t, nil, cli("secrets", "rotate")...)

	db := st.open(t)
	wantCLIOrigin(t, onlyEvent(t, db, "acme", main.ActionKeyCreated), "trail keys", "alice")
	wantCLIOrigin(t, onlyEvent(t, db, "acme", main.ActionKeyRevoked), "trail keys", "")
	wantCLIOrigin(t, onlyEvent(t, db, "acme", trail.ActionUserCreated), "trail users", "alice")
	rotated := onlyEvent(t, db, trail.OperatorTenant, main.ActionSecretsRotated)
	wantCLIOrigin(t, rotated, "trail secrets", "")
	if !strings.Contains(string(rotated.Metadata), `"key_id"`) {
		t.Errorf("secrets.rotated metadata %s lacks the new key's id", rotated.Metadata)
	}
}

// runMain starts the server in-process with args and returns it; the
// caller closes it.
func runMain(tb testing.TB, args ...string) *main.Main {
	tb.Helper()
	m := main.NewMain()
	m.Getenv, m.Stderr = env(nil), io.Discard
	if err := m.ParseFlags(append([]string{"--addr", "127.0.0.1:0"}, args...)); err != nil {
		tb.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		m.Close()
		tb.Fatal(err)
	}
	return m
}

// TestConfigForwardersName: the forwarders a config file creates, updates
// and deletes at start are recorded as done by that file on this node.
func TestConfigForwardersNameTheFile(t *testing.T) {
	data := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "trail.yaml")
	for _, yaml := range []string{
		"forwarders:\n  - {name: siem, kind: webhook, uri: 'https://a.example.com'}\n",
		"forwarders:\n  - {name: siem, kind: webhook, uri: 'https://b.example.com'}\n",
		"forwarders: []\n",
	} {
		if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := runMain(t, "--data", data, "--config", cfg).Close(); err != nil {
			t.Fatal(err)
		}
	}
	db := openData(t, data)
	host, _ := os.Hostname()
	for _, action := range []string{forward.ActionCreated, forward.ActionUpdated, forward.ActionDeleted} {
		e := onlyEvent(t, db, trail.OperatorTenant, action)
		var meta map[string]string
		json.Unmarshal(e.Actor.Metadata, &meta)
		if e.Actor.Name != "config file "+cfg || meta["config_file"] != cfg || meta["node"] != host {
			t.Errorf("%s actor %+v (metadata %v), want the config file %s on node %s", action, e.Actor, meta, cfg, host)
		}
		if got, want := e.Context.UserAgent, "trail/"+trail.Version; got != want {
			t.Errorf("%s user agent %q, want %q", action, got, want)
		}
	}
}
