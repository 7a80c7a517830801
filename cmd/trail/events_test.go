package main_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/client"
)

// eventsServer starts a server with 5 user.login events of acme (u_0..u_4,
// one minute apart) and returns the CLI environment of a reading key.
func eventsServer(t *testing.T) (map[string]string, []string) {
	t.Helper()
	m := startMain(t)
	_, secret := createKey(t, m.Config.Data, "--tenant", "acme", "--scopes", "events:write,events:read")
	events := make([]client.Event, 5)
	base := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	for i := range events {
		events[i] = client.Event{
			Action:     "user.login",
			OccurredAt: base.Add(time.Duration(i) * time.Minute),
			// A name with a newline and quotes, which CSV quotes.
			Actor: trail.Actor{Type: "user", ID: fmt.Sprintf("u_%d", i), Name: "Ada \"the first\"\nLovelace"},
		}
	}
	ids, err := client.New(m.URL(), secret).Publish(context.Background(), events...)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"TRAIL_SERVER": m.URL(), "TRAIL_KEY": secret}, ids
}

func TestEventsList(t *testing.T) {
	envs, ids := eventsServer(t)
	t.Run("Table", func(t *testing.T) {
		out := mustCLI(t, envs, "events", "list", "--action", "user.*", "--actor-id", "u_3")
		if !strings.Contains(out, ids[3]) || strings.Contains(out, ids[2]) {
			t.Errorf("want only %s:\n%s", ids[3], out)
		}
	})
	t.Run("Query", func(t *testing.T) {
		out := mustCLI(t, envs, "events", "list", "--query", "actor.id:u_3 OR actor.id:u_1", "--output", "jsonl")
		if strings.Count(out, "\n") != 2 || !strings.Contains(out, ids[3]) || !strings.Contains(out, ids[1]) {
			t.Errorf("--query: want %s and %s:\n%s", ids[3], ids[1], out)
		}
		out = mustCLI(t, envs, "events", "list", "--query", "lovelace -actor.id:u_0", "--output", "jsonl")
		if strings.Count(out, "\n") != 4 || strings.Contains(out, ids[0]) {
			t.Errorf("--query without u_0: want 4 events:\n%s", out)
		}
	})
	t.Run("PageAndCursor", func(t *testing.T) {
		r := runCLI(t, envs, false, "events", "list", "--action", "user.login", "--limit", "2", "--order", "asc", "--output", "jsonl")
		if r.code != 0 || strings.Count(r.stdout, "\n") != 2 || !strings.Contains(r.stdout, ids[0]) {
			t.Fatalf("exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		cursor := strings.Fields(strings.SplitAfter(r.stderr, "--cursor ")[1])[0]
		out := mustCLI(t, envs, "events", "list", "--action", "user.login", "--limit", "2", "--order", "asc",
			"--output", "jsonl", "--cursor", cursor)
		if !strings.Contains(out, ids[2]) || !strings.Contains(out, ids[3]) {
			t.Errorf("second page:\n%s", out)
		}
	})
	t.Run("AllJSON", func(t *testing.T) {
		out := mustCLI(t, envs, "events", "list", "--action", "user.login", "--limit", "2", "--all", "--output", "json")
		var page client.Page
		if err := json.Unmarshal([]byte(out), &page); err != nil {
			t.Fatal(err)
		}
		if got, want := len(page.Events), 5; got != want {
			t.Errorf("got %d events, want %d", got, want)
		}
	})
	t.Run("Since", func(t *testing.T) {
		since := time.Now().Add(-time.Hour).Add(150 * time.Second).UTC().Format(time.RFC3339)
		out := mustCLI(t, envs, "events", "list", "--action", "user.login", "--since", since, "--output", "jsonl")
		if got, want := strings.Count(out, "\n"), 2; got != want {
			t.Errorf("got %d events since %s, want %d:\n%s", got, since, want, out)
		}
		out = mustCLI(t, envs, "events", "list", "--action", "user.login", "--since", "2h", "--output", "jsonl")
		if got, want := strings.Count(out, "\n"), 5; got != want {
			t.Errorf("--since 2h: got %d events, want %d", got, want)
		}
	})
	for _, tt := range []struct {
		name string
		envs map[string]string
		args []string
		code int
		want string
	}{
		{"ErrNoKey", map[string]string{"TRAIL_SERVER": envs["TRAIL_SERVER"]}, nil, 2, "TRAIL_KEY"},
		{"ErrBadKey", map[string]string{"TRAIL_SERVER": envs["TRAIL_SERVER"], "TRAIL_KEY": "trail_k_x_y"}, nil, 1, "401"},
		{"ErrSince", envs, []string{"--since", "yesterday"}, 2, "--since"},
		{"ErrServerLimit", envs, []string{"--limit", "5000"}, 1, "limit"},
		{"ErrOutput", envs, []string{"--output", "xml"}, 2, "--output"},
		{"ErrQuery", envs, []string{"--query", `"unclosed`}, 1, "q:"},
		{"ErrNoServer", map[string]string{"TRAIL_SERVER": "http://127.0.0.1:1", "TRAIL_KEY": "k"}, nil, 1, "is trail serve running"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, tt.envs, false, append([]string{"events", "list"}, tt.args...)...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", r.code, r.stderr, tt.code, tt.want)
			}
		})
	}
}

func TestEventsGet(t *testing.T) {
	envs, ids := eventsServer(t)
	var e trail.Event
	if err := json.Unmarshal([]byte(mustCLI(t, envs, "events", "get", ids[1])), &e); err != nil {
		t.Fatal(err)
	}
	if e.ID != ids[1] || e.Actor.ID != "u_1" {
		t.Errorf("got %+v", e)
	}
	r := runCLI(t, envs, false, "events", "get", trail.NewID(time.Now()))
	if r.code != 1 || !strings.Contains(r.stderr, "404") {
		t.Errorf("unknown id: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestEventsExport(t *testing.T) {
	envs, ids := eventsServer(t)
	dir := t.TempDir()
	t.Run("CSVFile", func(t *testing.T) {
		file := filepath.Join(dir, "out.csv")
		r := runCLI(t, envs, true, "events", "export", "--format", "csv", "--output", file, "--action", "user.login")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		// stderr is a terminal here: the last progress line counts every
		// row, though actor names hold a newline inside a quoted field.
		if !strings.Contains(r.stderr, "exported 5 events") {
			t.Errorf("progress: %q", r.stderr)
		}
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, err := csv.NewReader(f).ReadAll()
		if err != nil || len(rows) != 6 || rows[1][0] != ids[4] {
			t.Errorf("got %d rows (%v), want a header and 5 events, newest first", len(rows), err)
		}
		if leftovers, _ := filepath.Glob(filepath.Join(dir, ".out.csv.partial-*")); len(leftovers) != 0 {
			t.Errorf("temporary files left: %v", leftovers)
		}
	})
	t.Run("Query", func(t *testing.T) {
		r := runCLI(t, envs, false, "events", "export", "--format", "jsonl", "--query", "actor.id:u_2")
		if r.code != 0 || strings.Count(r.stdout, "\n") != 1 || !strings.Contains(r.stdout, ids[2]) {
			t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("JSONLStdout", func(t *testing.T) {
		r := runCLI(t, envs, false, "events", "export", "--format", "jsonl", "--action", "user.login")
		if r.code != 0 || strings.Count(r.stdout, "\n") != 5 || r.stderr != "" {
			t.Errorf("exit %d, %d lines, stderr %q", r.code, strings.Count(r.stdout, "\n"), r.stderr)
		}
	})
	t.Run("ErrFailedExportLeavesNoFile", func(t *testing.T) {
		file := filepath.Join(dir, "bad.csv")
		r := runCLI(t, envs, false, "events", "export", "--format", "csv", "--output", file, "--ip", "not-an-ip")
		if r.code != 1 || !strings.Contains(r.stderr, "ip") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
		if _, err := os.Stat(file); !os.IsNotExist(err) {
			t.Errorf("a failed export left %s (%v)", file, err)
		}
		if leftovers, _ := filepath.Glob(filepath.Join(dir, ".bad.csv.partial-*")); len(leftovers) != 0 {
			t.Errorf("temporary files left: %v", leftovers)
		}
	})
	t.Run("ErrFormat", func(t *testing.T) {
		r := runCLI(t, envs, false, "events", "export", "--format", "xml")
		if r.code != 2 || !strings.Contains(r.stderr, "--format") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
}
