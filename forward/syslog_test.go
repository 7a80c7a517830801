package forward_test

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/testenv"
)

const rsyslogd = "/usr/sbin/rsyslogd"

// Rsyslog is an rsyslogd child process listening on imtcp and writing
// every message it parses, field by field, as JSON lines to Out.
type Rsyslog struct {
	Port int
	Out  string
	cmd  *exec.Cmd
	log  syncBuffer
}

// syncBuffer collects a child's output while the test may read it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// tlsFiles are the PEM files of a TLS listener.
type tlsFiles struct{ ca, cert, key string }

// StartRsyslog starts rsyslogd in dir, on port (0 for any free port), with
// TLS when tf is not nil. Without rsyslogd the test is skipped, or fails
// under TRAIL_REQUIRE_ALL (testenv.Require).
func StartRsyslog(tb testing.TB, dir string, port int, tf *tlsFiles) *Rsyslog {
	tb.Helper()
	_, err := os.Stat(rsyslogd)
	testenv.Require(tb, "rsyslogd", "apt-get install rsyslog rsyslog-gnutls", err)
	rs := &Rsyslog{Out: filepath.Join(dir, "out.jsonl")}
	portFile := filepath.Join(dir, "port")
	os.Remove(portFile)
	conf := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(conf, []byte(rsyslogConf(dir, port, portFile, rs.Out, tf)), 0o600); err != nil {
		tb.Fatal(err)
	}
	rs.cmd = exec.Command(rsyslogd, "-n", "-f", conf, "-i", filepath.Join(dir, "rsyslogd.pid"))
	rs.cmd.Stdout, rs.cmd.Stderr = &rs.log, &rs.log
	if err := rs.cmd.Start(); err != nil {
		tb.Fatalf("start rsyslogd: %v", err)
	}
	tb.Cleanup(rs.Stop)
	// rsyslogd writes the port file only for port 0; a fixed port is
	// ready once it accepts a connection.
	if !testenv.Poll(10*time.Second, func() bool { return rs.listening(port, portFile) }) {
		tb.Fatalf("rsyslogd did not start listening: %s", rs.log.String())
	}
	return rs
}

func (rs *Rsyslog) listening(port int, portFile string) bool {
	if port == 0 {
		b, _ := os.ReadFile(portFile)
		rs.Port, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		return rs.Port != 0
	}
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	c.Close()
	rs.Port = port
	return true
}

func rsyslogConf(dir string, port int, portFile, out string, tf *tlsFiles) string {
	var b strings.Builder
	fmt.Fprintf(&b, "global(workDirectory=%q maxMessageSize=\"256k\"", dir)
	if tf != nil {
		fmt.Fprintf(&b, " defaultNetstreamDriver=\"gtls\" defaultNetstreamDriverCAFile=%q"+
			" defaultNetstreamDriverCertFile=%q defaultNetstreamDriverKeyFile=%q", tf.ca, tf.cert, tf.key)
	}
	b.WriteString(")\n")
	if tf != nil {
		b.WriteString(`module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")` + "\n")
	} else {
		b.WriteString(`module(load="imtcp")` + "\n")
	}
	b.WriteString(`template(name="fields" type="list" option.jsonf="on") {
  property(outname="pri" name="pri" format="jsonf")
  property(outname="version" name="protocol-version" format="jsonf")
  property(outname="timestamp" name="timereported" dateFormat="rfc3339" format="jsonf")
  property(outname="hostname" name="hostname" format="jsonf")
  property(outname="app" name="app-name" format="jsonf")
  property(outname="procid" name="procid" format="jsonf")
  property(outname="msgid" name="msgid" format="jsonf")
  property(outname="sd" name="structured-data" format="jsonf")
  property(outname="msg" name="msg" format="jsonf")
}
`)
	fmt.Fprintf(&b, "ruleset(name=\"in\") { action(type=\"omfile\" file=%q template=\"fields\") }\n", out)
	fmt.Fprintf(&b, "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"%d\" listenPortFileName=%q ruleset=\"in\")\n", port, portFile)
	return b.String()
}

// Stop ends rsyslogd (SIGTERM, so it closes its connections) and waits.
func (rs *Rsyslog) Stop() {
	if rs.cmd.ProcessState != nil {
		return
	}
	rs.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { rs.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		rs.cmd.Process.Kill()
		<-done
	}
}

// syslogLine is one message as rsyslog parsed it.
type syslogLine struct {
	Pri, Version, Timestamp, Hostname, App, Procid, Msgid, SD, Msg string
}

// Lines returns what rsyslog wrote so far.
func (rs *Rsyslog) Lines(tb testing.TB) []syslogLine {
	tb.Helper()
	f, err := os.Open(rs.Out)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []syslogLine
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l syslogLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return out // a line being written
		}
		out = append(out, l)
	}
	return out
}

// TestSyslog sends RFC 5424 messages with octet-counting framing to a real
// rsyslogd over TCP, including an event far larger than rsyslog's default
// message size and one whose metadata holds newlines, then restarts
// rsyslogd and checks that events stored meanwhile still arrive.
func TestSyslog(t *testing.T) {
	dir := t.TempDir()
	rs := StartRsyslog(t, dir, 0, nil)
	s := MustOpenStore(t)
	MustCreate(t, s, &trail.Forwarder{Name: "syslog", Kind: trail.ForwarderSyslog,
		URI: fmt.Sprintf("tcp://127.0.0.1:%d", rs.Port), Retry: trail.RetryConfig{MaxAttempts: 1000,
			MinBackoff: trail.Duration(10 * time.Millisecond), MaxBackoff: trail.Duration(50 * time.Millisecond)},
		Syslog: &trail.SyslogConfig{Hostname: "trail-test"}})
	StartManager(t, s, "node-1")
	evs := MustAppend(t, s, "acme", "user.created", "a.very.long.action.name.that.goes.past.thirty_two")
	evs = append(evs, appendWithMetadata(t, s, `{"note":"line one\nline two","blob":"`+strings.Repeat("x", 20000)+`"}`))
	testenv.Eventually(t, 15*time.Second, "three messages", func() bool { return len(rs.Lines(t)) >= 3 })
	checkSyslog(t, rs.Lines(t), evs, "trail-test")

	rs.Stop()
	later := MustAppend(t, s, "acme", "user.updated", "user.deleted")
	rs = StartRsyslog(t, dir, rs.Port, nil)
	testenv.Eventually(t, 15*time.Second, "the events stored while rsyslog was down", func() bool { return len(rs.Lines(t)) >= 5 })
	checkSyslog(t, rs.Lines(t), append(evs, later...), "trail-test")
}

// TestSyslogTLS sends the same messages over TLS, verifying rsyslog's
// certificate with the forwarder's CA.
func TestSyslogTLS(t *testing.T) {
	dir := t.TempDir()
	tf, caPEM := writeTestCerts(t, dir)
	rs := StartRsyslog(t, dir, 0, tf)
	s := MustOpenStore(t)
	MustCreate(t, s, &trail.Forwarder{Name: "syslog-tls", Kind: trail.ForwarderSyslog,
		URI: fmt.Sprintf("tls://localhost:%d", rs.Port), Retry: fastRetry,
		Syslog: &trail.SyslogConfig{Hostname: "trail-tls", CA: caPEM}})
	StartManager(t, s, "node-1")
	evs := MustAppend(t, s, "", "key.created", "key.revoked")
	testenv.Eventually(t, 15*time.Second, "two messages over TLS", func() bool { return len(rs.Lines(t)) >= 2 })
	checkSyslog(t, rs.Lines(t), evs, "trail-tls")
}

func checkSyslog(t *testing.T, lines []syslogLine, evs []*trail.Event, host string) {
	t.Helper()
	if len(lines) != len(evs) {
		t.Fatalf("rsyslog got %d messages, want %d", len(lines), len(evs))
	}
	for i, l := range lines {
		e := evs[i]
		body, _ := json.Marshal(e)
		msgid := e.Action
		if len(msgid) > 32 {
			msgid = msgid[:32]
		}
		want := syslogLine{Pri: "110", Version: "1", Timestamp: e.OccurredAt.UTC().Format("2006-01-02T15:04:05.000000Z"),
			Hostname: host, App: "trail", Procid: "-", Msgid: msgid, SD: "-", Msg: string(body)}
		if l != want {
			t.Errorf("message %d:\n got %.300v\nwant %.300v", i, l, want)
		}
	}
}

func appendWithMetadata(t *testing.T, s trail.EventStore, meta string) *trail.Event {
	t.Helper()
	e := trail.NewSystemEvent("acme", "doc.annotated", trail.Actor{Type: trail.ActorUser, ID: "u1"}, trail.Context{},
		time.Now())
	e.Metadata = json.RawMessage(meta)
	if err := s.AppendBatches(t.Context(), []*trail.Batch{{Events: []*trail.Event{e}}}); err != nil {
		t.Fatal(err)
	}
	return e
}

// writeTestCerts writes a CA and a server certificate for localhost and
// 127.0.0.1 into dir, and returns their files and the CA's PEM.
func writeTestCerts(t *testing.T, dir string) (*tlsFiles, string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Trail test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	caCert, _ := x509.ParseCertificate(caDER)
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	tf := &tlsFiles{filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	for path, b := range map[string][]byte{
		tf.ca:   caPEM,
		tf.cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}),
		tf.key:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	} {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return tf, string(caPEM)
}
