package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
	main "github.com/trailhq/trail/cmd/trail"
	"github.com/trailhq/trail/internal/testenv"
)

// startMainWith runs the server in-process like startMain, with extra
// flags.
func startMainWith(tb testing.TB, args ...string) *main.Main {
	tb.Helper()
	m := newMainWith(tb, args...)
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

// newMainWith returns a Main on a free port with its data in a new
// folder, configured by args, not yet running.
func newMainWith(tb testing.TB, args ...string) *main.Main {
	tb.Helper()
	m := main.NewMain()
	m.Getenv = env(nil)
	m.Stderr = io.Discard
	if err := m.ParseFlags(append([]string{"--addr", "127.0.0.1:0", "--data", tb.TempDir()}, args...)); err != nil {
		tb.Fatal(err)
	}
	return m
}

// TestServeCutsOffSlowBodies sends request bodies one byte at a time
// (slowloris), to the console's sign-in, to ingest without a key and to
// the OTLP port: the server must close each connection soon after
// --read-timeout.
func TestServeCutsOffSlowBodies(t *testing.T) {
	m := startMainWith(t, "--read-timeout", "1s", "--otlp-addr", "127.0.0.1:0")
	for _, tc := range []struct{ name, addr, path string }{
		{"Login", m.Addr(), "/login"},
		{"Ingest", m.Addr(), "/v1/events"},
		{"OTLP", m.OTLPAddr(), "/v1/logs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", tc.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: trail\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
				"Content-Length: 60000\r\n\r\n", tc.path)
			start := time.Now()
			closed := make(chan struct{})
			go func() {
				io.Copy(io.Discard, conn) // the answer, if any, then EOF when the server closes
				close(closed)
			}()
			drip := time.NewTicker(100 * time.Millisecond)
			defer drip.Stop()
			giveUp := time.After(15 * time.Second)
			for {
				select {
				case <-closed:
					if d := time.Since(start); d > 6*time.Second {
						t.Fatalf("connection closed after %v, want soon after the 1s read timeout", d)
					}
					return
				case <-drip.C:
					conn.Write([]byte("a")) // fails once the server has closed; closed follows
				case <-giveUp:
					t.Fatal("a body sent one byte every 100 ms was still being read after 15 s")
				}
			}
		})
	}
}

// TestServeStreamsPastTimeouts checks that an export and the live tail
// keep streaming past --read-timeout and --write-timeout, which cut off
// every other response.
func TestServeStreamsPastTimeouts(t *testing.T) {
	// 3s leaves a loaded machine time for the sign-in's password hash.
	m := startMainWith(t, "--read-timeout", "1s", "--write-timeout", "3s")
	_, key := createKey(t, m.Config.Data, "--tenant", "acme", "--scopes", "events:read")
	const n, size = 400, 30000 // 12 MB: more than the socket buffers hold
	for b := range n / 50 {
		ingestBig(t, m, b, 50, size)
	}
	t.Run("Export", func(t *testing.T) {
		// A small receive buffer and a pause longer than the write timeout
		// keep the server's writes blocked past its deadline.
		tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err == nil {
				c.(*net.TCPConn).SetReadBuffer(64 << 10) // fixed, not autotuned up to 32 MB
			}
			return c, err
		}}
		defer tr.CloseIdleConnections()
		req, _ := http.NewRequest("GET", m.URL()+"/v1/events/export?format=jsonl", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		waitPast(4 * time.Second)
		lines, err := countLines(resp.Body)
		if err != nil || lines < n {
			t.Fatalf("export read %d lines, err %v; want all %d events after a pause past the write timeout", lines, err, n)
		}
	})
	t.Run("Tail", func(t *testing.T) {
		c := signInConsole(t, m)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", m.URL()+"/events/tail?action=big.*", nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		readUntil(t, sc, ": following")
		waitPast(4 * time.Second)
		ingestBig(t, m, 99, 1, 10)
		readUntil(t, sc, "event: row")
	})
}

// waitPast lets d pass: the tests above need a timeout to expire.
func waitPast(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
		time.Sleep(50 * time.Millisecond)
	}
}

func countLines(r io.Reader) (int, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	var n int
	for sc.Scan() {
		if !json.Valid(sc.Bytes()) {
			return n, fmt.Errorf("line %d is not JSON", n+1)
		}
		n++
	}
	return n, sc.Err()
}

func readUntil(t *testing.T, sc *bufio.Scanner, prefix string) {
	t.Helper()
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), prefix) {
			return
		}
	}
	t.Fatalf("stream ended before %q: %v", prefix, sc.Err())
}

// ingestBig stores count events of action big.bN with metadata of size
// bytes through m's writer: over HTTP, the short write timeout of the test
// could cut off a slow ingest on a loaded machine.
func ingestBig(t *testing.T, m *main.Main, batch, count, size int) {
	t.Helper()
	meta, _ := json.Marshal(map[string]string{"pad": strings.Repeat("x", size)})
	var events []*trail.Event
	for range count {
		e := trail.NewSystemEvent("acme", fmt.Sprintf("big.b%d", batch),
			trail.Actor{Type: trail.ActorUser, ID: "u1"}, trail.Context{}, time.Now())
		e.Metadata = meta
		events = append(events, e)
	}
	if err := m.Writer.Append(t.Context(), &trail.Batch{Events: events}); err != nil {
		t.Fatal(err)
	}
}

// signInConsole creates an admin of acme and returns a client signed in
// to the console of m.
func signInConsole(t *testing.T, m *main.Main, opts ...func(*http.Client)) *http.Client {
	t.Helper()
	if r := usersCLI(t, userPassword, "create", "--data", m.Config.Data, "--tenant", "acme",
		"--email", "a@example.com", "--role", "admin", "--password-stdin"); r.code != 0 {
		t.Fatalf("users create: exit %d: %s", r.code, r.stderr)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	for _, opt := range opts {
		opt(c)
	}
	page := fetch(t, c, m.URL()+"/login", http.StatusOK)
	token := csrfField.FindStringSubmatch(page)
	if token == nil {
		t.Fatalf("no sign-in form:\n%s", page)
	}
	resp, err := c.PostForm(m.URL()+"/login", url.Values{"csrf": {token[1]}, "tenant": {"acme"},
		"email": {"a@example.com"}, "password": {userPassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	c.Timeout = 0 // the live tail outlives any client timeout
	return c
}

// TestServeMaxConns checks that --max-conns caps open connections: with
// the cap held by idle connections, a request waits until one closes.
func TestServeMaxConns(t *testing.T) {
	m := startMainWith(t, "--max-conns", "2")
	var idle []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", m.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		idle = append(idle, c)
	}
	// The server accepts the two idle connections before the probe; a
	// probe that is answered now means the cap did not hold.
	client := &http.Client{Timeout: 500 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := client.Get(m.URL() + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatal("a third connection was served while two were open, want it held at --max-conns 2")
	}
	idle[0].Close()
	var err error
	if !testenv.Poll(10*time.Second, func() bool {
		var resp *http.Response
		resp, err = client.Get(m.URL() + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	}) {
		t.Fatalf("still not served after a connection closed: %v", err)
	}
}

// TestServeMetricsListener checks --metrics-addr: metrics on their own
// listener, and 404 on the main one without --metrics-token.
func TestServeMetricsListener(t *testing.T) {
	m := startMainWith(t, "--metrics-addr", "127.0.0.1:0")
	if status := get(t, m.URL()+"/healthz"); status != http.StatusOK {
		t.Fatalf("healthz: %d", status)
	}
	body := fetch(t, http.DefaultClient, "http://"+m.MetricsAddr()+"/metrics", http.StatusOK)
	if !strings.Contains(body, `trail_http_requests_total{route="GET /healthz",status="200"}`) {
		t.Fatalf("metrics listener lacks the API's metrics:\n%s", body)
	}
	if status := get(t, m.URL()+"/metrics"); status != http.StatusNotFound {
		t.Fatalf("GET /metrics on --addr without a token: status %d, want 404", status)
	}
	t.Run("Default", func(t *testing.T) {
		m := startMain(t)
		if status := get(t, m.URL()+"/metrics"); status != http.StatusNotFound {
			t.Fatalf("GET /metrics with no metrics settings: status %d, want 404", status)
		}
	})
	t.Run("ErrConfig", func(t *testing.T) {
		for _, tc := range []struct{ args []string }{
			{[]string{"--metrics-addr", "nowhere"}},
			{[]string{"--metrics-token", "short"}},
			{[]string{"--tls-cert", "a.pem"}},
			{[]string{"--read-timeout", "0s"}},
			{[]string{"--max-conns", "-1"}},
		} {
			_, err := main.LoadConfig(tc.args, env(nil), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.args[0]) {
				t.Errorf("%v: error %v, want one naming %s", tc.args, err, tc.args[0])
			}
		}
	})
}
