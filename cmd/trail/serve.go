package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/trailhq/trail"
	"github.com/trailhq/trail/alert"
	"github.com/trailhq/trail/apidocs"
	"github.com/trailhq/trail/console"
	"github.com/trailhq/trail/forward"
	"github.com/trailhq/trail/httpapi"
	"github.com/trailhq/trail/ledger"
	"github.com/trailhq/trail/postgres"
	"github.com/trailhq/trail/retention"
	"github.com/trailhq/trail/schema"
	"github.com/trailhq/trail/sqlite"
)

// pruneInterval is how often serve forgets idempotency keys older than
// httpapi.IdempotencyTTL.
const pruneInterval = time.Hour

// Main is `trail serve`: the wired program. Tests run it in-process with
// NewMain, ParseFlags, Run and Close, exactly as the binary does.
type Main struct {
	// Config is set by ParseFlags; tests may set it directly.
	Config Config
	// Getenv reads the environment; tests replace it.
	Getenv func(string) string
	// Stderr receives logs and usage messages.
	Stderr io.Writer

	Logger *slog.Logger
	Store  trail.Store
	Writer *trail.Writer
	// Follower wakes the stream's readers (ledger, forwarders, alerts)
	// when Writer commits; they poll for other nodes' commits.
	Follower *trail.Follower
	API      *httpapi.Server
	// Ledger seals events into signed checkpoints; its sequencer runs
	// under the "ledger" lease.
	Ledger *ledger.Ledger
	// Forwarders drives the store's forwarders.
	Forwarders *forward.Manager
	// Console is the web console, served at every path the API does not
	// use.
	Console *console.Server
	// Retention deletes events past retention; Alerts evaluates alert
	// rules. Both run under leases (features.go).
	Retention *retention.Runner
	Alerts    *alert.Evaluator
	// Schemas checks ingest against the actions' schemas (the API's).
	Schemas *schema.Validator

	ln     net.Listener
	http   *http.Server
	served chan error
	cancel context.CancelFunc
	bg     sync.WaitGroup

	otlp      *http.Server // the OTLP port, when --otlp-addr is set
	otlpLn    net.Listener
	metrics   *http.Server // the metrics port, when --metrics-addr is set
	metricsLn net.Listener
	certs     *certReloader // the TLS certificate, when --tls-cert is set
	closeOnce sync.Once
	closeErr  error
}

// NewMain returns a Main with the default configuration, reading the real
// environment and logging to os.Stderr.
func NewMain() *Main {
	return &Main{Config: DefaultConfig(), Getenv: os.Getenv, Stderr: os.Stderr}
}

// ParseFlags builds m.Config from the flags of `trail serve` (args exclude
// the subcommand), the TRAIL_* environment and the config file.
func (m *Main) ParseFlags(args []string) error {
	cfg, err := LoadConfig(args, m.Getenv, m.Stderr)
	if err != nil {
		return err
	}
	m.Config = cfg
	return nil
}

// DBPath returns the SQLite file inside data folder dir.
func DBPath(dir string) string { return filepath.Join(dir, "trail.db") }

// OpenStore opens the store that cfg names: the PostgreSQL database of
// --store when set, else the SQLite file in the data folder. Every command
// that works on the store opens it here; those that read or write stored
// secrets (serve, secrets rotate) then call UseSecrets.
func OpenStore(cfg Config) (trail.Store, error) {
	if cfg.Store != "" {
		return postgres.Open(cfg.Store)
	}
	return sqlite.OpenOptions(DBPath(cfg.Data), sqlite.Options{NoSearchIndex: !cfg.SearchIndex})
}

// Run opens the store, starts the writer, the background work and the HTTP
// server, and returns once the server listens. Close stops it all; call it
// even when Run fails, to close what Run opened.
func (m *Main) Run(ctx context.Context) error {
	if err := m.Config.Validate(); err != nil {
		return err
	}
	if err := checkAddrFree(m.Config.Addr); err != nil {
		return err
	}
	m.Logger = m.Config.NewLogger(m.Stderr)
	db, err := OpenStore(m.Config)
	if err != nil {
		return err
	}
	m.Store = db
	if err := UseSecrets(m.Config, db); err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	m.Follower = trail.NewFollower()
	if m.Forwarders, err = newForwarders(db, reg, m.Logger, m.Config.allowNetworks(), m.Follower); err != nil {
		return err
	}
	observe, wake := httpapi.NewMetrics(reg).ObserveCommit, m.Follower.Notify
	m.Writer = trail.NewWriter(db, m.Config.CommitMaxEvents, func(cs trail.CommitStats) { observe(cs); wake() })
	m.newFeatures(db)
	if err := m.recordSettings(ctx, time.Now()); err != nil {
		return fmt.Errorf("settings fingerprint: %w", err)
	}
	if err := m.newLedger(); err != nil {
		return err
	}
	sso, err := m.Config.SSO.Providers()
	if err != nil {
		return err
	}
	m.API = httpapi.New(httpapi.Config{
		SSOProviders:      sso,
		Store:             db,
		Writer:            m.Writer,
		Ledger:            m.Ledger,
		Retention:         m.Retention,
		Schemas:           m.Schemas,
		Logger:            m.Logger,
		Registry:          reg,
		TrustProxyHeaders: m.Config.TrustProxyHeaders,
		MetricsToken:      m.Config.MetricsToken,
		AllowNetworks:     m.Config.allowNetworks(),
		AuditReads:        m.Config.AuditReads == trail.AuditReadsAll,
	})
	if m.Config.TLSCert != "" {
		if m.certs, err = newCertReloader(m.Config.TLSCert, m.Config.TLSKey, m.Logger); err != nil {
			return err
		}
	}
	if m.Console, err = newConsole(m.Config, db, m.Writer, m.Ledger, m.Schemas, m.Logger, sso); err != nil {
		return err
	}
	if m.ln, err = m.listen("addr", m.Config.Addr); err != nil {
		return err
	}
	m.http = m.newHTTPServer(routes(m.API, m.Console))
	bgctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m.cancel = cancel
	m.http.RegisterOnShutdown(m.Console.CloseStreams)
	if err := m.startForwarders(ctx, bgctx); err != nil {
		return err
	}
	if err := m.startFeatures(bgctx); err != nil {
		return err
	}
	if err := m.startMetrics(); err != nil {
		return err
	}
	m.startLedger(bgctx)
	m.goBackground(func() { m.API.RunPruner(bgctx, pruneInterval) })
	m.goBackground(func() { m.API.RunAuthFailures(bgctx) })
	m.goBackground(func() { m.Console.RunPruner(bgctx, pruneInterval) })
	m.served = make(chan error, 1)
	go func() { m.served <- m.serve(m.http, m.ln) }()
	m.hintFirstKey(ctx)
	// The last startup line: tests and scripts wait for it.
	m.Logger.Info("trail listening", "addr", m.Addr(), "data", m.Config.Data, "version", trail.Version)
	return nil
}

// newConsole builds the web console over the store's users and sessions.
// With a ledger, event pages show whether the event is sealed and proven.
// Under TLS its cookies are Secure whatever --console-secure-cookies says.
func newConsole(cfg Config, db trail.Store, w *trail.Writer, led *ledger.Ledger, schemas *schema.Validator,
	log *slog.Logger, sso []*trail.SSOProvider) (*console.Server, error) {
	ccfg := console.Config{
		Store: db, Users: db, Writer: w, Logger: log, SSOProviders: sso, PublicURL: cfg.PublicURL,
		SecureCookies: cfg.ConsoleSecureCookies || cfg.TLSCert != "", TrustProxyHeaders: cfg.TrustProxyHeaders,
		AuditReads:  cfg.AuditReads != trail.AuditReadsOff,
		IdleTimeout: cfg.SessionIdleTimeout, MaxAge: cfg.SessionMaxAge,
		Schemas: schemas,
	}
	if led != nil {
		ccfg.Proof = console.LedgerProof(led)
	}
	ccfg.AllowNetworks = cfg.allowNetworks()
	return console.New(ccfg)
}

// routes sends the API's paths (/v1/ and its public routes such as
// /healthz) to the API, /docs to the API reference, and every other path
// to the web console.
func routes(api *httpapi.Server, con *console.Server) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", con.Handler())
	mux.Handle("/v1/", api.Handler())
	apidocs.Routes(mux) // /docs: the API reference for people
	seen := map[string]bool{"/v1/": true}
	for _, pattern := range api.Routes() {
		_, path, _ := strings.Cut(pattern, " ")
		if !strings.HasPrefix(path, "/v1/") && !seen[path] {
			seen[path] = true
			mux.Handle(path, api.Handler())
		}
	}
	return mux
}

// goBackground runs fn until Close.
func (m *Main) goBackground(fn func()) {
	m.bg.Add(1)
	go func() {
		defer m.bg.Done()
		fn()
	}()
}

// Addr returns the address the server listens on, with the real port when
// the configured port is 0.
func (m *Main) Addr() string {
	if m.ln == nil {
		return ""
	}
	return m.ln.Addr().String()
}

// URL returns the base URL of the running server: https:// under TLS.
func (m *Main) URL() string { return m.scheme() + "://" + m.Addr() }

// Close shuts down gracefully: it stops accepting connections, lets
// in-flight requests finish (up to ShutdownTimeout), commits what the
// writer holds, stops background work and closes the store. Every request
// that was answered 201 is durable before Close returns. Calling Close
// again returns the first call's result.
func (m *Main) Close() error {
	m.closeOnce.Do(func() { m.closeErr = m.close() })
	return m.closeErr
}

func (m *Main) close() error {
	var errs []error
	if m.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
		if err := m.http.Shutdown(ctx); err != nil {
			// Requests still running past the timeout are cut off; none
			// of them has been answered, so nothing acknowledged is lost.
			errs = append(errs, fmt.Errorf("shut down http: %w", err))
			m.http.Close()
		}
		cancel()
		if err := <-m.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, fmt.Errorf("serve: %w", err))
		}
	}
	errs = append(errs, m.shutdown("otlp", m.otlp), m.shutdown("metrics", m.metrics))
	if m.cancel != nil {
		m.cancel()
	}
	m.bg.Wait()
	if m.Writer != nil {
		errs = append(errs, m.Writer.Close())
	}
	if m.Store != nil {
		errs = append(errs, m.Store.Close())
	}
	if m.Logger != nil {
		m.Logger.Info("trail stopped")
	}
	return errors.Join(errs...)
}
