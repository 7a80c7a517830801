package httpapi_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/trailhq/trail"
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
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			hooks.put(r.Header.Get("webhook-id"), body)
		}))
		defer hook.Close()
		splunk := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			for line := range bytes.Lines(body) {
				hec.put(eventID(line), line)
			}
		}))
		defer splunk.Close()
		addr := syslogReceiver(t, &syslog)

		e.do(t, "POST", "/v1/forwarders", acme, `{"name":"hook","kind":"webhook","uri":"`+hook.URL+`"}`).want(t, 201)
		e.do(t, "POST", "/v1/forwarders", acme, `{"name":"hec","kind":"splunk","uri":"`+splunk.URL+`","token":"t"}`).want(t, 201)
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
			waitFor(t, "the event at every receiver", func() bool {
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
	_, rest, ok := bytes.Cut(b, []byte(`{"id":"`))
	if !ok {
		return ""
	}
	id, _, _ := bytes.Cut(rest, []byte(`"`))
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
