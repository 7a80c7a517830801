package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"golang.org/x/net/netutil"
)

// Every listener of serve (the API and console, OTLP, metrics) is built
// here, so that all of them get the same protection against slow clients
// and the same TLS.
//
//   - ReadHeaderTimeout and ReadTimeout cut off a client that sends its
//     headers or body too slowly (slowloris); WriteTimeout one that reads
//     a response too slowly. Streaming responses (exports, the live tail)
//     clear these for their request and bound each write instead, with
//     http.ResponseController.
//   - --max-conns caps the open connections of each listener, so that idle
//     or slow connections cannot exhaust file descriptors; connections
//     past the cap wait in the kernel's accept queue.
//   - With --tls-cert and --tls-key every listener speaks TLS (HTTP/2
//     and HTTP/1.1), with the certificate re-read when its files change.

// readHeaderTimeout bounds how long a client may take to send a request's
// headers.
const readHeaderTimeout = 10 * time.Second

// listen opens the listener for the setting flag at addr, capped at
// --max-conns connections.
func (m *Main) listen(flag, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on --%s %s: %w", flag, addr, err)
	}
	if m.Config.MaxConns > 0 {
		ln = netutil.LimitListener(ln, m.Config.MaxConns)
	}
	return ln, nil
}

// newHTTPServer returns a server for h with serve's timeouts and TLS.
func (m *Main) newHTTPServer(h http.Handler) *http.Server {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: min(readHeaderTimeout, m.Config.ReadTimeout),
		ReadTimeout:       m.Config.ReadTimeout,
		WriteTimeout:      m.Config.WriteTimeout,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
	}
	if m.certs != nil {
		srv.TLSConfig = &tls.Config{
			MinVersion:     tls.VersionTLS12,
			GetCertificate: m.certs.GetCertificate,
			NextProtos:     []string{"h2", "http/1.1"},
		}
	}
	return srv
}

// serve runs srv on ln until it is shut down, over TLS when configured.
func (m *Main) serve(srv *http.Server, ln net.Listener) error {
	if srv.TLSConfig != nil {
		return srv.ServeTLS(ln, "", "") // the certificate comes from GetCertificate
	}
	return srv.Serve(ln)
}

// scheme is "https" when serve speaks TLS, else "http".
func (m *Main) scheme() string {
	if m.certs != nil {
		return "https"
	}
	return "http"
}

// shutdown stops srv gracefully within the shutdown timeout, then cuts off
// what is left.
func (m *Main) shutdown(name string, srv *http.Server) error {
	if srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		srv.Close()
		return fmt.Errorf("shut down %s: %w", name, err)
	}
	return nil
}

// startMetrics serves GET /metrics on --metrics-addr when it is set.
func (m *Main) startMetrics() error {
	if m.Config.MetricsAddr == "" {
		return nil
	}
	ln, err := m.listen("metrics-addr", m.Config.MetricsAddr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.API.MetricsHandler())
	m.metrics, m.metricsLn = m.newHTTPServer(mux), ln
	go m.serve(m.metrics, ln)
	m.Logger.Info("metrics listening", "addr", ln.Addr().String(), "path", "/metrics")
	return nil
}

// MetricsAddr returns the address of the metrics port, "" when it is off.
func (m *Main) MetricsAddr() string {
	if m.metricsLn == nil {
		return ""
	}
	return m.metricsLn.Addr().String()
}
