package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailhq/trail"
	main "github.com/trailhq/trail/cmd/trail"
	"github.com/trailhq/trail/internal/pgtest"
	"github.com/trailhq/trail/postgres"
	"github.com/trailhq/trail/sqlite"
)

// trailBin is the real binary, built once by TestMain.
var trailBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "trail-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	trailBin = filepath.Join(dir, "trail")
	build := exec.Command("go", "build", "-o", trailBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build trail:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := pgtest.Main(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one in-process command printed.
type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs a trail command line in-process, the way the binary's main
// does, with an environment of exactly envs.
func runCLI(tb testing.TB, envs map[string]string, terminal bool, args ...string) result {
	tb.Helper()
	var stdout, stderr bytes.Buffer
	e := &main.Env{Stdout: &stdout, Stderr: &stderr, Getenv: env(envs), StderrIsTerminal: terminal}
	code := main.Run(context.Background(), e, args)
	return result{code, stdout.String(), stderr.String()}
}

// mustCLI runs a command line that must succeed.
func mustCLI(tb testing.TB, envs map[string]string, args ...string) string {
	tb.Helper()
	r := runCLI(tb, envs, false, args...)
	if r.code != 0 {
		tb.Fatalf("trail %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// createKey runs `trail keys create --output json` on data and returns the
// secret.
func createKey(tb testing.TB, data string, args ...string) (id, secret string) {
	tb.Helper()
	out := mustCLI(tb, nil, append([]string{"keys", "create", "--data", data, "--output", "json"}, args...)...)
	var k struct{ ID, Secret string }
	if err := json.Unmarshal([]byte(out), &k); err != nil || k.Secret == "" {
		tb.Fatalf("keys create printed %q: %v", out, err)
	}
	return k.ID, k.Secret
}

// newData returns a new data folder holding an empty store, as trail serve
// leaves it: the CLI's store commands refuse a folder without one.
func newData(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	db, err := sqlite.Open(main.DBPath(dir))
	if err != nil {
		tb.Fatal(err)
	}
	if err := db.Close(); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// startMain runs the server in-process on a free port with its data in a
// new folder, and closes it when the test ends.
func startMain(tb testing.TB) *main.Main {
	tb.Helper()
	m := main.NewMain()
	m.Getenv = env(nil)
	m.Stderr = io.Discard
	if err := m.ParseFlags([]string{"--addr", "127.0.0.1:0", "--data", tb.TempDir()}); err != nil {
		tb.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		m.Close()
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := m.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return m
}

// serveProc is a real `trail serve` process.
type serveProc struct {
	cmd  *exec.Cmd
	URL  string
	mu   sync.Mutex
	logs bytes.Buffer
	done chan error
}

var listenRE = regexp.MustCompile(`msg="trail listening" addr=(\S+)`)

// startServe starts the binary with `serve --addr 127.0.0.1:0 args...` and
// waits until it logs the address it listens on. The process is killed
// when the test ends if it still runs.
func startServe(tb testing.TB, args ...string) *serveProc {
	tb.Helper()
	p := &serveProc{done: make(chan error, 1)}
	p.cmd = exec.Command(trailBin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	addr := make(chan string, 1)
	go p.readLogs(stderr, addr)
	tb.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	select {
	case a := <-addr:
		p.URL = "http://" + a
	case err := <-p.done:
		p.done <- err
		tb.Fatalf("trail serve exited before listening: %v\n%s", err, p.Logs())
	case <-time.After(30 * time.Second):
		tb.Fatalf("trail serve did not log its address within 30s:\n%s", p.Logs())
	}
	return p
}

// readLogs keeps the process's stderr and reports the listening address.
func (p *serveProc) readLogs(r io.Reader, addr chan<- string) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		p.mu.Lock()
		p.logs.WriteString(sc.Text() + "\n")
		p.mu.Unlock()
		if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
			addr <- m[1]
		}
	}
	io.Copy(io.Discard, r)
	p.done <- p.cmd.Wait()
}

// Logs returns what the process has logged so far.
func (p *serveProc) Logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// wait waits for the process to exit and returns its error.
func (p *serveProc) wait(tb testing.TB) error {
	tb.Helper()
	select {
	case err := <-p.done:
		p.done <- err // for the cleanup
		return err
	case <-time.After(30 * time.Second):
		tb.Fatalf("trail serve did not exit within 30s:\n%s", p.Logs())
		return nil
	}
}

// cliStore is the store a CLI test's commands work on.
type cliStore struct {
	// args name the store: --data, and --store for PostgreSQL.
	args []string
	// open opens the store as the test reads it back, closed when tb ends.
	open func(tb testing.TB) trail.Store
}

// forEachCLIStore runs fn as one subtest per store kind, each with a
// fresh store: a SQLite data folder, or a PostgreSQL database (--store)
// beside an empty data folder.
func forEachCLIStore(t *testing.T, fn func(t *testing.T, st cliStore)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		data := newData(t)
		fn(t, cliStore{args: []string{"--data", data},
			open: func(tb testing.TB) trail.Store { return openData(tb, data) }})
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.NewDB(t)
		fn(t, cliStore{args: []string{"--data", t.TempDir(), "--store", dsn},
			open: func(tb testing.TB) trail.Store {
				tb.Helper()
				db, err := postgres.Open(dsn)
				if err != nil {
					tb.Fatal(err)
				}
				tb.Cleanup(func() { db.Close() })
				return db
			}})
	})
}
