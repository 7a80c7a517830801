package main_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/client"
	main "github.com/trailhq/trail/cmd/trail"
	"github.com/trailhq/trail/internal/testenv"
)

// TestServeGracefulShutdown closes the server in-process while clients
// ingest, and checks that every acknowledged event is in the store.
func TestServeGracefulShutdown(t *testing.T) {
	m := startMain(t)
	_, key := createKey(t, m.Config.Data, "--tenant", "acme", "--scopes", "events:write")
	in := ingest(client.New(m.URL(), key), 4, 20)
	testenv.Eventually(t, 20*time.Second, "in.count.Load() >= 500", func() bool { return in.count.Load() >= 500 })
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	acked := in.wait()

	db := openData(t, m.Config.Data)
	for _, id := range acked {
		if _, err := db.Event(context.Background(), trail.Scope{All: true}, id); err != nil {
			t.Fatalf("acknowledged event %s: %v", id, err)
		}
	}
}

// TestServePrunesIdempotencyKeys stores an idempotency key three days old
// and one from now, starts the server, and waits until the old one is
// forgotten while the new one is kept.
func TestServePrunesIdempotencyKeys(t *testing.T) {
	data := t.TempDir()
	now := time.Now()
	old := idempotentBatch("old", now.Add(-72*time.Hour))
	fresh := idempotentBatch("fresh", now)
	db := openData(t, data)
	if err := db.AppendBatches(context.Background(), []*trail.Batch{old, fresh}); err != nil {
		t.Fatal(err)
	}

	m := main.NewMain()
	m.Getenv, m.Stderr = env(nil), &bytes.Buffer{}
	m.Config.Addr, m.Config.Data = "127.0.0.1:0", data
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })

	// A key is remembered when appending its batch again is a replay.
	remembered := func(name string) bool {
		b := idempotentBatch(name, time.Now())
		if err := db.AppendBatches(context.Background(), []*trail.Batch{b}); err != nil {
			t.Fatal(err)
		}
		return b.Replayed != nil
	}
	testenv.Eventually(t, 20*time.Second, `!remembered("old")`, func() bool { return !remembered("old") })
	if !remembered("fresh") {
		t.Error("a fresh idempotency key was pruned")
	}
}

func idempotentBatch(key string, at time.Time) *trail.Batch {
	e := trail.NewSystemEvent("acme", "test.event", trail.Actor{Type: trail.ActorSystem}, trail.Context{}, at)
	return &trail.Batch{
		Events: []*trail.Event{e},
		Idempotency: &trail.Idempotency{Namespace: "k_test", Key: key,
			Response: trail.IdempotentResponse{RequestHash: "h", Status: 201, Body: []byte("{}"), CreatedAt: at}},
	}
}

// TestServeAdminKeyHint logs the admin key command only while no usable
// admin key exists.
func TestServeAdminKeyHint(t *testing.T) {
	data := t.TempDir()
	start := func() string {
		var logs bytes.Buffer
		m := main.NewMain()
		m.Getenv, m.Stderr = env(nil), &logs
		m.Config.Addr, m.Config.Data = "127.0.0.1:0", data
		if err := m.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		return logs.String()
	}
	hint := main.TenantKeyCommand(main.ProgramName(os.Args[0]), data, "acme")
	admin := main.AdminKeyCommand(main.ProgramName(os.Args[0]), data)
	if logs := start(); !strings.Contains(logs, hint) || !strings.Contains(logs, admin) {
		t.Errorf("first start does not log %q and %q:\n%s", hint, admin, logs)
	}
	createKey(t, data, "--tenant", "acme", "--scopes", "events:write")
	if logs := start(); strings.Contains(logs, hint) {
		t.Errorf("the hint is logged though a key exists:\n%s", logs)
	}
}

func TestKeyCommandQuotes(t *testing.T) {
	got := main.AdminKeyCommand("trail", "/srv/my trail's data")
	want := `trail keys create --data '/srv/my trail'\''s data' --platform --scopes admin,events:write,events:read`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	got = main.TenantKeyCommand("go run ./cmd/trail", "./trail-data", "acme")
	want = `go run ./cmd/trail keys create --data ./trail-data --tenant acme --scopes events:write,events:read`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestProgramName checks that the first-start hint names a command that
// `go run` users can paste: their binary lives in a go-build folder.
func TestProgramName(t *testing.T) {
	for arg0, want := range map[string]string{
		"/tmp/go-build3412/b001/exe/trail": "go run ./cmd/trail",
		"trail":                            "trail",
		"bin/trail":                        "bin/trail",
		"/opt/my tools/trail":              "'/opt/my tools/trail'",
	} {
		if got := main.ProgramName(arg0); got != want {
			t.Errorf("ProgramName(%q) = %q, want %q", arg0, got, want)
		}
	}
}

func TestRunCommands(t *testing.T) {
	t.Run("Version", func(t *testing.T) {
		r := runCLI(t, nil, false, "version")
		if r.code != 0 || !strings.HasPrefix(r.stdout, "trail "+trail.Version) {
			t.Errorf("exit %d, stdout %q", r.code, r.stdout)
		}
	})
	t.Run("Help", func(t *testing.T) {
		r := runCLI(t, nil, false, "help")
		if r.code != 0 || !strings.Contains(r.stdout, "serve") || !strings.Contains(r.stdout, "keys") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
	t.Run("ErrUnknownCommand", func(t *testing.T) {
		r := runCLI(t, nil, false, "frobnicate")
		if r.code != 2 || !strings.Contains(r.stderr, `unknown command "frobnicate"`) {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
	t.Run("ErrServeFlag", func(t *testing.T) {
		r := runCLI(t, nil, false, "serve", "--addr", "nowhere")
		if r.code != 1 || !strings.Contains(r.stderr, "--addr") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
	t.Run("ErrServePortTaken", func(t *testing.T) {
		m := startMain(t)
		r := runCLI(t, nil, false, "serve", "--addr", m.Addr(), "--data", t.TempDir())
		if r.code != 1 || !strings.Contains(r.stderr, "listen on --addr") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
}
