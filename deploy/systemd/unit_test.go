// Package systemd_test checks deploy/systemd/trail.service with
// systemd-analyze verify (where installed) and runs its ExecStart with its
// environment as an unprivileged user.
package systemd_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trailhq/trail/internal/testenv"
)

// unit returns the directives of trail.service, in order.
func unit(t *testing.T) [][2]string {
	t.Helper()
	b, err := os.ReadFile("trail.service")
	if err != nil {
		t.Fatal(err)
	}
	var out [][2]string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			out = append(out, [2]string{k, v})
		}
	}
	return out
}

func lookup(dirs [][2]string, key string) []string {
	var vs []string
	for _, d := range dirs {
		if d[0] == key {
			vs = append(vs, d[1])
		}
	}
	return vs
}

// trailBin is the binary, built once by TestMain in a folder that any user
// may read (the server runs as nobody).
var trailBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "trail-systemd-")
	if err != nil {
		panic(err)
	}
	os.Chmod(dir, 0o755)
	trailBin = filepath.Join(dir, "trail")
	if out, err := exec.Command("go", "build", "-o", trailBin, "../../cmd/trail").CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		panic(fmt.Sprintf("go build: %v\n%s", err, out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestUnitSandboxing(t *testing.T) {
	dirs := unit(t)
	for key, want := range map[string]string{
		"User": "trail", "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
		"PrivateTmp": "yes", "StateDirectory": "trail", "CapabilityBoundingSet": "", "KillSignal": "SIGTERM",
	} {
		if got := lookup(dirs, key); len(got) != 1 || got[0] != want {
			t.Errorf("%s=%v, want %q", key, got, want)
		}
	}
}

// TestUnitVerify runs systemd-analyze verify on the unit, with ExecStart
// pointing at a freshly built binary; any warning fails the test.
func TestUnitVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	testenv.Require(t, "systemd-analyze", "apt-get install systemd", err)
	bin := trailBin
	b, _ := os.ReadFile("trail.service")
	unitPath := filepath.Join(t.TempDir(), "trail.service")
	os.WriteFile(unitPath, bytes.ReplaceAll(b, []byte("/usr/local/bin/trail"), []byte(bin)), 0o644)
	out, err := exec.Command(analyze, "verify", unitPath).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

var listening = regexp.MustCompile(`"msg":"trail listening".*"addr":"([^"]+)"`)

// TestUnitExecStart runs the unit's ExecStart with the unit's Environment
// as an unprivileged user (nobody), on a private data folder: what systemd
// starts, without systemd.
func TestUnitExecStart(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Require(t, "root", "run the tests as root", errors.New("needed to run the server as another user"))
	}
	dirs := unit(t)
	bin := trailBin
	exec0 := lookup(dirs, "ExecStart")[0]
	args := strings.Fields(strings.Replace(exec0, "/usr/local/bin/trail", bin, 1))
	data, err := os.MkdirTemp(filepath.Dir(trailBin), "state-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chown(data, 65534, 65534) // systemd's StateDirectory= belongs to User=
	env := []string{"TRAIL_ADDR=127.0.0.1:0"}
	for _, e := range lookup(dirs, "Environment") {
		if strings.HasPrefix(e, "TRAIL_DATA=") {
			e = "TRAIL_DATA=" + data
		}
		env = append(env, e)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	found := make(chan string, 1)
	var logs bytes.Buffer
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		close(found)
	}()
	select {
	case addr, ok := <-found:
		if !ok {
			t.Fatalf("trail serve exited:\n%s", logs.String())
		}
		t.Logf("listening on %s as nobody", addr)
	case <-time.After(30 * time.Second):
		t.Fatal("trail serve did not listen within 30s")
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("trail serve exited with %v after SIGTERM", err)
	}
	if _, err := os.Stat(filepath.Join(data, "trail.db")); err != nil {
		t.Errorf("no store in the state directory: %v", err)
	}
}
