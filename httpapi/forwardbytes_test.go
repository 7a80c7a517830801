package httpapi_test

import (
	"bufio"
	"bytes"
	"database/sql"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/testenv"
	"github.com/trailhq/trail/sqlite"
)

// collector keeps what a test receiver got, one entry per event.
type collector struct {
	mu  sync.Mutex
	got map[string][]byte // by event id
}

func (c *collector) put(id string, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.got == nil {
		c.got = map[string][]byte{}
	}
	c.got[id] = b
}

func (c *collector) get(id string) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.got[id]
}

// TestForwardersSendStoredBytes checks that forwarders send each event as
// stored: a webhook body for one event is, byte for byte, the body of GET
// /v1/events/{id} (without the newline that ends every API answer), the
// HEC event member of a Splunk line holds those bytes verbatim, and so
// does a syslog message's MSG. The events hold what an encoder could
// write differently: HTML characters, line separators, non-ASCII text,
// numbers in exponent form and nested metadata.
func TestForwardersSendStoredBytes(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s, allowLoopback)
		acme := e.newKey(t, "acme", false, trail.ScopeAdmin, trail.ScopeEventsWrite, trail.ScopeEventsRead)

		var hooks, hec, syslog collector
		hookURL, splunkURL, addr := receivers(t, &hooks, &hec, &syslog)

		e.do(t, "POST", "/v1/forwarders", acme, `{"name":"hook","kind":"webhook","uri":"`+hookURL+`"}`).want(t, 201)
		e.do(t, "POST", "/v1/forwarders", acme, `{"name":"hec","kind":"splunk","uri":"`+splunkURL+`","token":"t"}`).want(t, 201)
		e.do(t, "POST", "/v1/forwarders", acme, `{"name":"log","kind":"syslog","uri":"tcp://`+addr+`"}`).want(t, 201)
		runManager(t, s)
		ids := e.ingest(t, acme, batch(
			event("user.created", "metadata", `{"html":"<b>&amp;</b>","sep":"a\u2028b","n":1e3,"f":-0.5,"deep":{"list":[1,"é",null,true]}}`),
			event("doc.shared", "actor", `{"type":"user","id":"u<1>","name":"Zoë \"Z\" & co"}`,
				"targets", `[{"type":"doc","id":"d1","name":"日本","metadata":{"k":"v"}}]`),
		))

		for _, id := range ids {
			get := e.do(t, "GET", "/v1/events/"+id, acme, "").want(t, 200).body
			stored, ok := bytes.CutSuffix(get, []byte("\n"))
			if !ok {
				t.Fatalf("GET /v1/events/%s does not end in a newline: %q", id, get)
			}
			testenv.Eventually(t, 15*time.Second, "the event at every receiver", func() bool {
				return hooks.get(id) != nil && hec.get(id) != nil && syslog.get(id) != nil
			})
			if body := hooks.get(id); !bytes.Equal(body, stored) {
				t.Errorf("webhook body:\n%s\nGET /v1/events/%s:\n%s", body, id, stored)
			}
			if line, want := hec.get(id), append(append([]byte(`,"event":`), stored...), "}\n"...); !bytes.HasSuffix(line, want) {
				t.Errorf("HEC line:\n%s\ndoes not end in the stored event:\n%s", line, want)
			}
			if msg := syslog.get(id); !bytes.HasSuffix(msg, append([]byte(" - "), stored...)) {
				t.Errorf("syslog message:\n%s\ndoes not end in the stored event:\n%s", msg, stored)
			}
		}
	})
}

// eventID finds the event id in a forwarded line: the first "id" member
// of the event's JSON, which the envelope's fields do not have.
func eventID(b []byte) string {
	_, rest, ok := bytes.Cut(b, []byte(`{"id":`))
	if !ok {
		return ""
	}
	rest = bytes.TrimLeft(rest, " ")
	id, _, _ := bytes.Cut(bytes.TrimPrefix(rest, []byte(`"`)), []byte(`"`))
	return string(id)
}

// syslogReceiver accepts syslog over TCP with octet-counting framing (RFC
// 6587) and keeps each message by its event's id. It returns its address.
func syslogReceiver(t *testing.T, c *collector) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				r := bufio.NewReader(conn)
				for {
					n, err := r.ReadString(' ')
					if err != nil {
						return
					}
					size, err := strconv.Atoi(strings.TrimSpace(n))
					if err != nil {
						return
					}
					msg := make([]byte, size)
					if _, err := io.ReadFull(r, msg); err != nil {
						return
					}
					c.put(eventID(msg), msg)
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// TestForwardersDoNotEncodeAgain stores an event whose JSON is spelled
// differently from what an encoder writes (spaces after the colons), as a
// store written by another encoder might hold it, and checks that GET
// /v1/events/{id}, the webhook, the Splunk HEC line and syslog all carry
// those very bytes: the event is not decoded and encoded again on its way.
func TestForwardersDoNotEncodeAgain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trail.db")
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	e := newEnv(t, s, allowLoopback)
	acme := e.newKey(t, "acme", false, trail.ScopeAdmin, trail.ScopeEventsWrite, trail.ScopeEventsRead)
	id := e.ingest(t, acme, event("user.created"))[0]

	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var data string
	if err := raw.QueryRow("SELECT data FROM events WHERE id = ?", id).Scan(&data); err != nil {
		t.Fatal(err)
	}
	spaced := strings.ReplaceAll(data, `":`, `": `)
	if _, err := raw.Exec("UPDATE events SET data = ? WHERE id = ?", spaced, id); err != nil {
		t.Fatal(err)
	}

	if get := e.do(t, "GET", "/v1/events/"+id, acme, "").want(t, 200).body; string(get) != spaced+"\n" {
		t.Fatalf("GET /v1/events/%s:\n%s\nwant the stored bytes:\n%s", id, get, spaced)
	}
	var hooks, hec, syslog collector
	hookURL, splunkURL, addr := receivers(t, &hooks, &hec, &syslog)
	e.do(t, "POST", "/v1/forwarders", acme, `{"name":"hook","kind":"webhook","uri":"`+hookURL+`","start":"beginning"}`).want(t, 201)
	e.do(t, "POST", "/v1/forwarders", acme, `{"name":"hec","kind":"splunk","uri":"`+splunkURL+`","token":"t","start":"beginning"}`).want(t, 201)
	e.do(t, "POST", "/v1/forwarders", acme, `{"name":"log","kind":"syslog","uri":"tcp://`+addr+`","start":"beginning"}`).want(t, 201)
	runManager(t, s)
	testenv.Eventually(t, 15*time.Second, "the event at every receiver", func() bool {
		return hooks.get(id) != nil && hec.get(id) != nil && syslog.get(id) != nil
	})
	if body := hooks.get(id); string(body) != spaced {
		t.Errorf("webhook body:\n%s\nwant the stored bytes:\n%s", body, spaced)
	}
	if line := hec.get(id); !strings.HasSuffix(string(line), `,"event":`+spaced+"}\n") {
		t.Errorf("HEC line:\n%s\ndoes not end in the stored bytes:\n%s", line, spaced)
	}
	if msg := syslog.get(id); !strings.HasSuffix(string(msg), " - "+spaced) {
		t.Errorf("syslog message:\n%s\ndoes not end in the stored bytes:\n%s", msg, spaced)
	}
}

// receivers starts a webhook and a Splunk HEC receiver over HTTP and a
// syslog receiver, each collecting what it gets by event id, and returns
// their addresses.
func receivers(t *testing.T, hooks, hec, syslog *collector) (hookURL, splunkURL, syslogAddr string) {
	t.Helper()
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		hooks.put(r.Header.Get("webhook-id"), body)
	}))
	t.Cleanup(hook.Close)
	splunk := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		for line := range bytes.Lines(body) {
			hec.put(eventID(line), line)
		}
	}))
	t.Cleanup(splunk.Close)
	return hook.URL, splunk.URL, syslogReceiver(t, syslog)
}
