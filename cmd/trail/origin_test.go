package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/user"
	"strings"
	"testing"

	"github.com/trailhq/trail"
	main "github.com/trailhq/trail/cmd/trail"
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
func TestCLIRecordsWhoRanIt(t *testing.T) {
	data := newData(t)
	sudo := map[string]string{"SUDO_USER": "alice"}
	out := mustCLI(t, sudo, "keys", "create", "--data", data, "--tenant", "acme", "--scopes", "events:read", "--output", "json")
	var k struct{ ID string }
	if err := json.Unmarshal([]byte(out), &k); err != nil {
		t.Fatal(err)
	}
	mustCLI(t, nil, "keys", "revoke", "--data", data, k.ID)

	var stdout, stderr bytes.Buffer
	e := &main.Env{Stdin: strings.NewReader(userPassword + "\n"), Stdout: &stdout, Stderr: &stderr, Getenv: env(sudo)}
	if code := main.Run(context.Background(), e, []string{"users", "create", "--data", data, "--tenant", "acme",
		"--email", "a@example.com", "--role", "admin", "--password-stdin"}); code != 0 {
		t.Fatalf("users create: exit %d: %s", code, stderr.String())
	}
	mustCLI(t, nil, "secrets", "rotate", "--data", data)

	db := openData(t, data)
	wantCLIOrigin(t, onlyEvent(t, db, "acme", main.ActionKeyCreated), "trail keys", "alice")
	wantCLIOrigin(t, onlyEvent(t, db, "acme", main.ActionKeyRevoked), "trail keys", "")
	wantCLIOrigin(t, onlyEvent(t, db, "acme", trail.ActionUserCreated), "trail users", "alice")
	rotated := onlyEvent(t, db, trail.SystemTenant, main.ActionSecretsRotated)
	wantCLIOrigin(t, rotated, "trail secrets", "")
	if !strings.Contains(string(rotated.Metadata), `"key_id"`) {
		t.Errorf("secrets.rotated metadata %s lacks the new key's id", rotated.Metadata)
	}
}
