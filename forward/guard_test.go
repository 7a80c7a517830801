package forward_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/forward"
	"github.com/trailhq/trail/internal/testenv"
)

func TestGuardCheck(t *testing.T) {
	allow, err := forward.ParseNetworks("10.1.0.0/16, 192.168.7.9")
	if err != nil {
		t.Fatal(err)
	}
	g := forward.NewGuard(allow)
	tests := []struct {
		addr   string
		reason string // "" when allowed
	}{
		{"93.184.215.14", ""},
		{"2606:4700::1111", ""},
		{"127.0.0.1", "loopback"},
		{"127.255.1.2", "loopback"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.1", "loopback"},
		{"0.0.0.0", "unspecified"},
		{"::", "unspecified"},
		{"10.0.0.1", "private"},
		{"172.16.5.4", "private"},
		{"192.168.1.1", "private"},
		{"fd12::1", "private"},
		{"169.254.169.254", "cloud metadata service"},
		{"::ffff:169.254.169.254", "cloud metadata service"},
		{"fd00:ec2::254", "cloud metadata service"},
		{"100.100.100.200", "cloud metadata service"},
		{"169.254.10.1", "link-local"},
		{"fe80::1", "link-local"},
		{"fe80::1%eth0", "link-local"},
		{"224.0.0.1", "multicast"},
		{"ff02::1", "multicast"},
		{"100.64.0.1", "reserved"},
		{"255.255.255.255", "reserved"},
		{"64:ff9b::7f00:1", "loopback via NAT64"},
		{"64:ff9b::5db8:d70e", ""},
		{"10.1.2.3", ""},    // allowed network
		{"192.168.7.9", ""}, // allowed address
		{"192.168.7.10", "private"},
	}
	for _, tt := range tests {
		err := g.Check(netip.MustParseAddr(tt.addr))
		var re *forward.RefusedError
		switch {
		case tt.reason == "" && err != nil:
			t.Errorf("Check(%s) = %v, want allowed", tt.addr, err)
		case tt.reason != "" && (err == nil || !asRefused(err, &re) || re.Reason != tt.reason):
			t.Errorf("Check(%s) = %v, want refused (%s)", tt.addr, err, tt.reason)
		}
	}
	if err := (*forward.Guard)(nil).Check(netip.MustParseAddr("127.0.0.1")); err != nil {
		t.Errorf("a nil Guard refuses: %v", err)
	}
	for _, bad := range []string{"10.0.0.0/33", "nope", "fe80::1%eth0"} {
		if _, err := forward.ParseNetworks(bad); err == nil {
			t.Errorf("ParseNetworks(%q) accepted", bad)
		}
	}
}

func asRefused(err error, re **forward.RefusedError) bool {
	r, ok := err.(*forward.RefusedError)
	*re = r
	return ok
}

// TestTenantDestinationsRefused: with no allowed networks, a tenant's
// webhook, Splunk, syslog and S3 forwarders are refused at connect time,
// for a literal loopback address and for a name that resolves to one; the
// receivers never see a connection. An operator forwarder to the same
// receiver delivers.
func TestTenantDestinationsRefused(t *testing.T) {
	s := MustOpenStore(t)
	rc := NewReceiver(t, nil)
	var syslogConns atomic.Int32
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			syslogConns.Add(1)
			c.Close()
		}
	}()
	port := rc.URL[strings.LastIndex(rc.URL, ":"):]
	tenant := []*trail.Forwarder{
		{Name: "literal", Kind: trail.ForwarderWebhook, URI: rc.URL},
		{Name: "by-name", Kind: trail.ForwarderWebhook, URI: "http://localhost" + port + "/hook"},
		{Name: "splunk", Kind: trail.ForwarderSplunk, URI: rc.URL, Token: "hec"},
		{Name: "syslog", Kind: trail.ForwarderSyslog, URI: "tcp://" + ln.Addr().String()},
		{Name: "s3", Kind: trail.ForwarderS3, URI: "http://localhost" + port,
			S3:    &trail.S3Config{Bucket: "audit", AccessKey: "k", SecretKey: "secret-secret", PathStyle: true},
			Batch: trail.BatchConfig{Wait: trail.Duration(1)}},
	}
	for _, f := range tenant {
		f.Tenant, f.Retry = "acme", fastRetry
		MustCreate(t, s, f)
	}
	MustCreate(t, s, &trail.Forwarder{Name: "ops", Kind: trail.ForwarderWebhook, URI: rc.URL + "/ops"})
	cfg := testConfig(s, "node")
	cfg.AllowNetworks = nil
	stop := RunManager(t, cfg)
	defer stop()
	MustAppend(t, s, "acme", "user.login")

	testenv.Eventually(t, 15*time.Second, "the operator forwarder's delivery", func() bool { return len(rc.Requests()) >= 1 })
	for _, f := range tenant {
		testenv.Eventually(t, 15*time.Second, f.Name+"'s dead letter", func() bool { return len(tenantDeadLetters(t, s, f)) == 1 })
		dl := tenantDeadLetters(t, s, f)[0]
		if !strings.Contains(dl.Error, "refused (loopback)") {
			t.Errorf("%s: dead letter error %q, want a loopback refusal", f.Name, dl.Error)
		}
		if dl.Attempts != 1 {
			t.Errorf("%s: %d attempts, want 1: a refused address is not retried", f.Name, dl.Attempts)
		}
		testenv.Eventually(t, 15*time.Second, f.Name+"'s last_error", func() bool {
			return strings.Contains(status(t, s, "acme", f.Name).LastError, "refused (loopback)")
		})
	}
	for _, r := range rc.Requests() {
		if r.Path != "/ops" {
			t.Errorf("a tenant's forwarder reached the receiver: %s %s", r.Method, r.Path)
		}
	}
	if n := syslogConns.Load(); n != 0 {
		t.Errorf("the syslog listener accepted %d connections from a tenant's forwarder", n)
	}
}

// TestResponseBodyNotInStatus: what a receiver answers never reaches a
// tenant's status or dead letters, only the status code and its standard
// reason.
func TestResponseBodyNotInStatus(t *testing.T) {
	s := MustOpenStore(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		if strings.HasSuffix(r.URL.Path, "/bad") {
			w.WriteHeader(http.StatusForbidden)
		} else {
			w.WriteHeader(http.StatusInternalServerError)
		}
		w.Write([]byte("db_password=hunter2"))
	}))
	t.Cleanup(srv.Close)
	for _, name := range []string{"bad", "down"} {
		MustCreate(t, s, &trail.Forwarder{Tenant: "acme", Name: name, Kind: trail.ForwarderWebhook,
			URI: srv.URL + "/" + name, Retry: fastRetry})
	}
	StartManager(t, s, "node")
	MustAppend(t, s, "acme", "user.login")
	for name, want := range map[string]string{"bad": "403 Forbidden", "down": "500 Internal Server Error"} {
		f := &trail.Forwarder{Tenant: "acme", Name: name}
		testenv.Eventually(t, 15*time.Second, name+"'s dead letter and status", func() bool {
			return len(tenantDeadLetters(t, s, f)) == 1 && status(t, s, "acme", name).LastError != ""
		})
		st, dl := status(t, s, "acme", name), tenantDeadLetters(t, s, f)[0]
		for _, text := range []string{st.LastError, dl.Error} {
			if !strings.Contains(text, want) || strings.Contains(text, "hunter2") {
				t.Errorf("%s: error %q, want %q and nothing of the body", name, text, want)
			}
		}
	}
}

func tenantDeadLetters(tb testing.TB, s forward.Store, f *trail.Forwarder) []*trail.DeadLetter {
	tb.Helper()
	cur, err := s.Forwarder(tb.Context(), f.Tenant, f.Name)
	if err != nil {
		tb.Fatal(err)
	}
	dls, err := s.DeadLetters(tb.Context(), cur.ID, trail.DeadLetterQuery{})
	if err != nil {
		tb.Fatal(err)
	}
	return dls
}
