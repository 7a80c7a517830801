// Package pgtest starts throwaway PostgreSQL servers for tests and
// benchmarks, from the server binaries installed on the machine (initdb and
// postgres), in a temporary folder reached through a unix socket.
//
// Each test binary shares one server (Shared) and gives each test its own
// fresh database (NewDB), so tests share no state. A test that needs to stop
// and start the database (an outage test) starts a server of its own with
// NewServer. When the binaries are missing, the test fails and says what to
// install; it is never skipped.
//
// The server is a child of the test process that dies with it (Linux parent
// death signal), so a test binary that panics or is killed leaves no server
// behind; the next run removes folders left by dead test processes.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// InstallHint is what a test failure says when the server binaries are
// missing.
const InstallHint = "install postgresql-15 (apt-get install postgresql-15), or set TRAIL_PG_BIN to the folder holding initdb and postgres"

// Options tune a throwaway server.
type Options struct {
	// Durable keeps fsync and synchronous commit on, as in production;
	// benchmarks want it. Tests leave it off for speed.
	Durable bool
	// Settings are extra server settings (postgresql.conf names).
	Settings map[string]string
}

// Server is a throwaway PostgreSQL server in a temporary folder. Clients
// connect through a unix socket in that folder, as the superuser
// "postgres", without a password.
type Server struct {
	dir  string // the temporary root folder
	bin  string // folder of initdb and postgres
	opts Options
	cred *syscall.Credential // the unprivileged user to run as when we are root

	mu   sync.Mutex
	proc *os.Process
	exit chan error // receives the postmaster's exit; nil while stopped
}

// Port is the port number in the socket's name. No TCP port is opened, so
// servers never collide.
const Port = 5432

// NewServer creates a database cluster in a new temporary folder and starts
// a server on it. Close stops it and removes the folder.
func NewServer(opts Options) (*Server, error) {
	bin, err := FindBin()
	if err != nil {
		return nil, err
	}
	removeStale()
	s := &Server{bin: bin, opts: opts}
	if s.dir, err = os.MkdirTemp("", "trail-pgtest-"+strconv.Itoa(os.Getpid())+"-"); err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	if err := s.initdb(); err != nil {
		os.RemoveAll(s.dir)
		return nil, err
	}
	if err := s.Start(); err != nil {
		os.RemoveAll(s.dir)
		return nil, err
	}
	return s, nil
}

// FindBin returns the folder holding initdb and postgres: $TRAIL_PG_BIN, the
// newest /usr/lib/postgresql/*/bin, or the folder of initdb on $PATH.
func FindBin() (string, error) {
	if d := os.Getenv("TRAIL_PG_BIN"); d != "" {
		return d, checkBin(d)
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if checkBin(d) == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		d := filepath.Dir(p)
		return d, checkBin(d)
	}
	return "", errors.New("pgtest: PostgreSQL server binaries (initdb, postgres) not found: " + InstallHint)
}

func versionOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func checkBin(dir string) error {
	for _, name := range []string{"initdb", "postgres"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("pgtest: %s not found in %s: %s", name, dir, InstallHint)
		}
	}
	return nil
}

// SocketDir is the folder of the server's unix socket: the host to connect
// to.
func (s *Server) SocketDir() string { return filepath.Join(s.dir, "sock") }

func (s *Server) dataDir() string { return filepath.Join(s.dir, "data") }

// DSN returns the connection URL of database db on this server.
func (s *Server) DSN(db string) string {
	return "postgres://postgres@/" + url.PathEscape(db) + "?host=" + url.QueryEscape(s.SocketDir()) +
		"&port=" + strconv.Itoa(Port) + "&sslmode=disable"
}

// initdb creates the cluster. initdb refuses to run as root, so as root it
// runs as the "postgres" (or "nobody") user, which then owns the folder.
func (s *Server) initdb() error {
	if err := os.WriteFile(filepath.Join(s.dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	if err := os.Mkdir(s.SocketDir(), 0o700); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	if os.Geteuid() == 0 {
		cred, err := unprivileged()
		if err != nil {
			return err
		}
		s.cred = cred
		for _, p := range []string{s.dir, s.SocketDir()} {
			if err := os.Chown(p, int(cred.Uid), int(cred.Gid)); err != nil {
				return fmt.Errorf("pgtest: %w", err)
			}
		}
	}
	cmd := exec.Command(filepath.Join(s.bin, "initdb"), "-D", s.dataDir(), "-U", "postgres",
		"--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	cmd.Dir = s.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pgtest: initdb: %w\n%s", err, out)
	}
	return nil
}

func unprivileged() (*syscall.Credential, error) {
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("pgtest: running as root and no postgres or nobody user to run the server as")
}

// Start starts the server (again) and waits until it accepts connections.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.exit != nil {
		return nil
	}
	exit, err := s.spawn()
	if err != nil {
		return err
	}
	s.exit = exit
	return s.waitReady(exit)
}

// spawn starts the postmaster from a goroutine that keeps its OS thread
// until the postmaster exits: the parent death signal fires when the
// starting thread ends, not the process.
func (s *Server) spawn() (chan error, error) {
	args := []string{"-D", s.dataDir(), "-k", s.SocketDir(), "-p", strconv.Itoa(Port), "-c", "listen_addresses="}
	for k, v := range s.settings() {
		args = append(args, "-c", k+"="+v)
	}
	cmd := exec.Command(filepath.Join(s.bin, "postgres"), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Pdeathsig: syscall.SIGQUIT, Setpgid: true}
	cmd.Dir = s.dir
	logf, err := os.OpenFile(filepath.Join(s.dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	started, exit := make(chan error, 1), make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		defer logf.Close()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		exit <- cmd.Wait()
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("pgtest: start postgres: %w", err)
	}
	s.proc = cmd.Process
	return exit, nil
}

func (s *Server) settings() map[string]string {
	m := map[string]string{
		"max_connections":            "200",
		"shared_buffers":             "64MB",
		"unix_socket_permissions":    "0777",
		"log_min_messages":           "warning",
		"dynamic_shared_memory_type": "posix",
	}
	if !s.opts.Durable {
		m["fsync"] = "off"
		m["synchronous_commit"] = "off"
		m["full_page_writes"] = "off"
	}
	for k, v := range s.opts.Settings {
		m[k] = v
	}
	return m
}

func (s *Server) waitReady(exit chan error) error {
	sock := filepath.Join(s.SocketDir(), ".s.PGSQL."+strconv.Itoa(Port))
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exit:
			s.exit = nil
			return fmt.Errorf("pgtest: postgres exited at start (%v):\n%s", err, s.logTail())
		default:
		}
		if _, err := os.Stat(sock); err == nil && s.ping() == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("pgtest: postgres did not accept connections within 60s:\n%s", s.logTail())
}

func (s *Server) ping() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return s.exec(ctx, "SELECT 1")
}

func (s *Server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// Stop shuts the server down (fast shutdown: open connections are ended)
// and waits until it has exited. Start brings it back with its data.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.exit == nil {
		return nil
	}
	exit := s.exit
	s.exit = nil
	s.proc.Signal(syscall.SIGINT)
	select {
	case <-exit:
		return nil
	case <-time.After(30 * time.Second):
	}
	s.proc.Signal(syscall.SIGQUIT)
	select {
	case <-exit:
		return nil
	case <-time.After(10 * time.Second):
		s.proc.Kill()
		<-exit
		return errors.New("pgtest: postgres did not stop; killed")
	}
}

// Close stops the server and removes its folder.
func (s *Server) Close() error {
	err := s.Stop()
	if rerr := os.RemoveAll(s.dir); err == nil {
		err = rerr
	}
	return err
}

// removeStale removes the folders of servers whose test process is gone.
// Their postmasters died with those processes.
func removeStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "trail-pgtest-*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "owner.pid"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid == os.Getpid() || syscall.Kill(pid, 0) != syscall.ESRCH {
			continue
		}
		if info, err := os.Stat(d); err == nil && time.Since(info.ModTime()) > time.Minute {
			os.RemoveAll(d)
		}
	}
}

// Chown gives path to the user the server runs as (when the test runs as
// root, the server runs as an unprivileged user), so that the server can
// use it, say as a tablespace's folder.
func (s *Server) Chown(path string) error {
	if s.cred == nil {
		return nil
	}
	return os.Chown(path, int(s.cred.Uid), int(s.cred.Gid))
}
