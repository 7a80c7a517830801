package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// certCheckEvery bounds how often the certificate files are looked at: a
// handshake at most this often costs two stat calls.
const certCheckEvery = time.Second

// certReloader serves the TLS certificate of --tls-cert and --tls-key and
// loads it again when either file changes (size or modification time), so
// that a renewed certificate (certbot, cert-manager) is used without a
// restart. A pair that cannot be loaded, such as one caught half-written,
// is logged and the previous certificate kept until the files change
// again.
type certReloader struct {
	certFile, keyFile string
	logger            *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   string    // size and mtime of both files when cert was loaded
	checked time.Time // when the files were last looked at
}

// newCertReloader loads the pair once; an error here stops serve.
func newCertReloader(certFile, keyFile string, logger *slog.Logger) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, logger: logger}
	stamp, err := r.fileStamp()
	if err != nil {
		return nil, err
	}
	if err := r.load(stamp); err != nil {
		return nil, err
	}
	return r, nil
}

// GetCertificate is tls.Config.GetCertificate.
func (r *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := time.Now(); now.Sub(r.checked) >= certCheckEvery {
		r.checked = now
		stamp, err := r.fileStamp()
		switch {
		case err != nil:
			r.logger.Warn("TLS certificate files unreadable; keeping the loaded certificate", "err", err)
		case stamp != r.stamp:
			if err := r.load(stamp); err != nil {
				r.logger.Warn("TLS certificate not reloaded; keeping the loaded one", "err", err)
			} else {
				r.logger.Info("TLS certificate reloaded", "cert", r.certFile)
			}
		}
	}
	return r.cert, nil
}

// fileStamp describes both files by size and modification time.
func (r *certReloader) fileStamp() (string, error) {
	var stamp string
	for _, name := range []string{r.certFile, r.keyFile} {
		fi, err := os.Stat(name)
		if err != nil {
			return "", fmt.Errorf("TLS certificate: %w", err)
		}
		stamp += fmt.Sprintf("%d/%d;", fi.Size(), fi.ModTime().UnixNano())
	}
	return stamp, nil
}

// load reads the pair; stamp is what the files looked like before.
func (r *certReloader) load(stamp string) error {
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("--tls-cert %s and --tls-key %s: %w", r.certFile, r.keyFile, err)
	}
	r.cert, r.stamp = &cert, stamp
	return nil
}
