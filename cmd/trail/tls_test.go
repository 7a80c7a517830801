package main_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/trailhq/trail/internal/testenv"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Trail test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// writeLeaf writes a certificate for 127.0.0.1 with serial, signed by ca,
// and its key to certFile and keyFile.
func (ca *testCA) writeLeaf(t *testing.T, serial int64, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "trail.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, b []byte) {
		tmp := name + ".tmp"
		if err := os.WriteFile(tmp, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, name); err != nil { // as certbot and cert-manager do: never half a file
			t.Fatal(err)
		}
	}
	write(certFile, "CERTIFICATE", der)
	write(keyFile, "EC PRIVATE KEY", kder)
}

// TestServeTLS serves over TLS with certificates made here: HTTP/2 is
// negotiated, a renewed certificate is picked up without a restart, and
// console cookies are Secure.
func TestServeTLS(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	ca.writeLeaf(t, 1001, certFile, keyFile)
	m := startMainWith(t, "--tls-cert", certFile, "--tls-key", keyFile, "--otlp-addr", "127.0.0.1:0",
		"--write-timeout", "2s")
	if m.URL()[:8] != "https://" {
		t.Fatalf("URL %q, want https://", m.URL())
	}
	client := func() *http.Client {
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: ca.pool}, ForceAttemptHTTP2: true, DisableKeepAlives: true,
		}}
	}
	get := func(t *testing.T, url string) *http.Response {
		t.Helper()
		resp, err := client().Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	t.Run("HTTP2", func(t *testing.T) {
		resp := get(t, m.URL()+"/healthz")
		if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
			t.Fatalf("status %d over %s, want 200 over HTTP/2", resp.StatusCode, resp.Proto)
		}
		if got := resp.TLS.PeerCertificates[0].SerialNumber.Int64(); got != 1001 {
			t.Fatalf("certificate serial %d, want 1001", got)
		}
	})
	t.Run("OTLPPortToo", func(t *testing.T) {
		resp := get(t, "https://"+m.OTLPAddr()+"/v1/logs")
		if resp.TLS == nil {
			t.Fatal("the OTLP port does not speak TLS")
		}
	})
	t.Run("PlainHTTPRefused", func(t *testing.T) {
		resp, err := http.Get("http://" + m.Addr() + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Fatal("plain HTTP served on a TLS listener")
			}
		}
	})
	t.Run("SecureCookies", func(t *testing.T) {
		resp := get(t, m.URL()+"/login")
		var found bool
		for _, c := range resp.Cookies() {
			if c.Name == "__Host-trail_login" {
				found = true
				if !c.Secure || !c.HttpOnly {
					t.Fatalf("cookie %+v: want Secure and HttpOnly", c)
				}
			}
		}
		if !found {
			t.Fatalf("no __Host-trail_login cookie under TLS: %v", resp.Header["Set-Cookie"])
		}
	})
	// HTTP/2 resets a stream at the write timeout unless the handler
	// extends it: the live tail must stream on.
	t.Run("TailOverHTTP2", func(t *testing.T) {
		c := signInConsole(t, m, func(c *http.Client) {
			c.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool}, ForceAttemptHTTP2: true}
		})
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", m.URL()+"/events/tail?action=big.*", nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.ProtoMajor != 2 {
			t.Fatalf("tail over %s, want HTTP/2", resp.Proto)
		}
		sc := bufio.NewScanner(resp.Body)
		readUntil(t, sc, ": following")
		waitPast(3 * time.Second)
		ingestBig(t, m, 7, 1, 10)
		readUntil(t, sc, "event: row")
	})
	t.Run("Rotation", func(t *testing.T) {
		ca.writeLeaf(t, 1002, certFile, keyFile)
		testenv.Eventually(t, 15*time.Second, "the renewed certificate to be served", func() bool {
			resp := get(t, m.URL()+"/healthz")
			return resp.TLS.PeerCertificates[0].SerialNumber.Int64() == 1002
		})
	})
	t.Run("ErrBadPair", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.key")
		os.WriteFile(bad, []byte("not a key"), 0o600)
		m := newMainWith(t, "--tls-cert", certFile, "--tls-key", bad)
		defer m.Close()
		if err := m.Run(t.Context()); err == nil {
			t.Fatal("serve started with a key that does not load")
		}
	})
}
