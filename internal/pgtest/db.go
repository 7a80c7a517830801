package pgtest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// exec runs sql in the server's "postgres" database.
func (s *Server) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

var dbSeq atomic.Int64

// CreateDB creates a new, empty database and returns its name.
func (s *Server) CreateDB(ctx context.Context) (string, error) {
	name := fmt.Sprintf("trail_%d_%d", os.Getpid(), dbSeq.Add(1))
	if err := s.exec(ctx, "CREATE DATABASE "+name+" TEMPLATE template0"); err != nil {
		return "", fmt.Errorf("pgtest: create database: %w", err)
	}
	return name, nil
}

// DropDB drops database name, ending its open connections.
func (s *Server) DropDB(ctx context.Context, name string) error {
	return s.exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
}

// NewDB creates a fresh database for one test or benchmark, drops it when
// tb ends, and returns its connection URL.
func (s *Server) NewDB(tb testing.TB) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name, err := s.CreateDB(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.DropDB(ctx, name); err != nil && !strings.Contains(err.Error(), "connect") {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return s.DSN(name)
}

var shared struct {
	once sync.Once
	srv  *Server
	err  error
}

// Shared returns the test binary's shared server, starting it on first use.
// It fails tb, saying what to install, when the server cannot start. The
// server stops when the test binary exits (see Main for a clean stop).
func Shared(tb testing.TB) *Server {
	tb.Helper()
	shared.once.Do(func() { shared.srv, shared.err = NewServer(Options{}) })
	if shared.err != nil {
		tb.Fatal(shared.err)
	}
	return shared.srv
}

// NewDB returns the connection URL of a fresh database on the shared server,
// dropped when tb ends.
func NewDB(tb testing.TB) string {
	tb.Helper()
	return Shared(tb).NewDB(tb)
}

// Main runs the tests of m and then stops the shared server and removes its
// folder. Use it from TestMain: os.Exit(pgtest.Main(m)). Without it the
// server still dies with the test binary, and its folder is removed by a
// later run.
func Main(m *testing.M) int {
	code := m.Run()
	if shared.srv != nil {
		shared.srv.Close()
	}
	return code
}

// MustServer starts a server of the test's own (for a test that stops the
// database or changes the server's settings), stopped when the test ends.
func MustServer(tb testing.TB, opts Options) *Server {
	tb.Helper()
	srv, err := NewServer(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { srv.Close() })
	return srv
}
