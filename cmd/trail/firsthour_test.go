package main_test

import (
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
	main "github.com/trailhq/trail/cmd/trail"
	"github.com/trailhq/trail/internal/testenv"
)

// The tests of this file follow the stumbles of a newcomer's first hour
// with the README (issue 15).

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		r := runCLI(t, nil, false, args...)
		want := regexp.MustCompile(`^trail ` + regexp.QuoteMeta(trail.Version) + ` \(commit \S+\)\n$`)
		if r.code != 0 || !want.MatchString(r.stdout) {
			t.Errorf("trail %s: exit %d, stdout %q", args[0], r.code, r.stdout)
		}
	}
	// make build and make release set the commit with -ldflags; without
	// it, the go command's VCS stamp (when not turned off) is used.
	bin := filepath.Join(t.TempDir(), "trail")
	build := exec.Command("go", "build", "-ldflags", "-X main.commit=0123abcd", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil || string(out) != "trail "+trail.Version+" (commit 0123abcd)\n" {
		t.Errorf("trail --version of a build with the commit set: %q, %v", out, err)
	}
}

func TestHelpToStdout(t *testing.T) {
	for _, arg := range []string{"-h", "--help", "help"} {
		r := runCLI(t, nil, false, arg)
		if r.code != 0 || !strings.Contains(r.stdout, "serve") || r.stderr != "" {
			t.Errorf("trail %s: exit %d, stdout %q, stderr %q", arg, r.code, r.stdout, r.stderr)
		}
	}
	if r := runCLI(t, nil, false); r.code != 2 || !strings.Contains(r.stderr, "serve") {
		t.Errorf("trail without a command: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestCommandHelpShowsOwnFlags checks that `-h` of a store command lists
// its own flags and --data, not every flag of serve.
func TestCommandHelpShowsOwnFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"keys", "create", "-h"}, []string{"-tenant", "-scopes", "-data", "-config"}},
		{[]string{"users", "create", "-h"}, []string{"-email", "-role", "-data"}},
		{[]string{"verify", "-h"}, []string{"-pubkey", "-bundle", "-data"}},
		{[]string{"ledger", "pubkey", "-h"}, []string{"-data", "-ledger-key"}},
	} {
		r := runCLI(t, nil, false, tt.args...)
		if r.code != 0 {
			t.Errorf("%v: exit %d", tt.args, r.code)
		}
		for _, w := range tt.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%v does not list %s:\n%s", tt.args, w, r.stderr)
			}
		}
		for _, serveOnly := range []string{"-shutdown-timeout", "-commit-max-events", "-otlp-addr", "-console-secure-cookies"} {
			if strings.Contains(r.stderr, serveOnly) {
				t.Errorf("%v lists serve's %s:\n%s", tt.args, serveOnly, r.stderr)
			}
		}
	}
}

// TestStoreCommandsRefuseMissingStore checks that a mistyped --data gets an
// error naming the folder, and no new empty store.
func TestStoreCommandsRefuseMissingStore(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"KeysCreate", []string{"keys", "create", "--tenant", "acme", "--scopes", "events:read"}},
		{"KeysList", []string{"keys", "list"}},
		{"UsersList", []string{"users", "list", "--tenant", "acme"}},
		{"Verify", []string{"verify"}},
		{"LedgerPubkey", []string{"ledger", "pubkey"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, wrong := range []string{filepath.Join(t.TempDir(), "tral-data"), t.TempDir()} {
				r := runCLI(t, nil, false, append(tt.args, "--data", wrong)...)
				// verify exits 2 when it cannot check (1 means evidence).
				want := 1
				if tt.name == "Verify" {
					want = 2
				}
				if r.code != want || !strings.Contains(r.stderr, "no Trail store in "+wrong) {
					t.Errorf("--data %s: exit %d, stderr %q", wrong, r.code, r.stderr)
				}
				if entries, _ := os.ReadDir(wrong); len(entries) != 0 {
					t.Errorf("--data %s: created %v", wrong, entries)
				}
			}
		})
	}
}

// TestServePortTakenCreatesNothing checks that serve on a taken port fails
// before it creates the data folder or the ledger key.
func TestServePortTakenCreatesNothing(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	data := filepath.Join(t.TempDir(), "trail-data")
	r := runCLI(t, nil, false, "serve", "--addr", ln.Addr().String(), "--data", data)
	if r.code != 1 || !strings.Contains(r.stderr, "already in use") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("serve created %s before failing: %v", data, err)
	}
}

func TestEventsListLimit(t *testing.T) {
	for _, limit := range []string{"0", "-1"} {
		r := runCLI(t, map[string]string{"TRAIL_KEY": "trail_k_x"}, false, "events", "list", "--limit", limit)
		if r.code != 2 || !strings.Contains(r.stderr, "--limit") {
			t.Errorf("--limit %s: exit %d, stderr %q", limit, r.code, r.stderr)
		}
	}
}

func TestVerifyPlural(t *testing.T) {
	m := startMain(t)
	_, key := createKey(t, m.Config.Data, "--tenant", "acme", "--scopes", "events:write")
	if code, _, _ := post(t, m.URL(), key, "doc", 1); code != 201 {
		t.Fatalf("ingest: %d", code)
	}
	pub := strings.TrimSpace(mustCLI(t, nil, "ledger", "pubkey", "--data", m.Config.Data))
	testenv.Eventually(t, 20*time.Second, "trail verify to report the log verified", func() bool {
		r := runCLI(t, nil, false, "verify", "--data", m.Config.Data, "--pubkey", pub, "--log", "acme")
		return r.code == 0 && strings.Contains(r.stdout, "ok: 1 log verified")
	})
}

// TestConfigFileErrorsNameTheSetting checks that config file errors name
// the setting and never a Go type.
func TestConfigFileErrorsNameTheSetting(t *testing.T) {
	for _, tt := range []struct {
		name, file string
		want       []string
	}{
		{"UnknownKey", "log_formt: json\n", []string{`unknown setting "log_formt"`, "log_format", "line 1"}},
		{"BadDuration", "addr: :8080\nshutdown_timeout: 5x\n", []string{"shutdown_timeout", `"5x"`, "duration", "line 2"}},
		{"BadInt", "commit_max_events: many\n", []string{"commit_max_events", "integer"}},
		{"NotScalar", "addr: [a, b]\n", []string{"addr", "single value"}},
		{"ForwarderKey", "forwarders:\n  - name: a\n    kind: webhook\n    urii: http://x\n", []string{"forwarders", "line 4", "urii"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			file := writeFile(t, "trail.yaml", tt.file)
			_, err := main.LoadConfig([]string{"--config", file}, env(nil), io.Discard)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			for _, goType := range []string{"main.Config", "time.Duration", "trail.Forwarder", "!!"} {
				if strings.Contains(err.Error(), goType) {
					t.Errorf("error %q names a Go type", err)
				}
			}
		})
	}
	t.Run("OK", func(t *testing.T) {
		file := writeFile(t, "trail.yaml", "addr: 127.0.0.1:9\nshutdown_timeout: 1m\ntrust_proxy_headers: true\n")
		c, err := main.LoadConfig([]string{"--config", file}, env(nil), io.Discard)
		if err != nil || c.Addr != "127.0.0.1:9" || c.ShutdownTimeout.String() != "1m0s" || !c.TrustProxyHeaders {
			t.Errorf("got %+v, %v", c, err)
		}
	})
}
