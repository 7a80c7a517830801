package forward

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/trailhq/trail"
)

// severityInfo is the RFC 5424 severity of every audit event:
// informational.
const severityInfo = 6

// syslogSender writes RFC 5424 messages, the event as JSON in MSG, over
// one TCP or TLS connection with octet-counting framing (RFC 6587 3.4.1):
// "<length> <message>". TCP has no acknowledgements, so a batch counts as
// delivered once it is written; the connection is checked before each
// batch, so that one the receiver closed is replaced before writing rather
// than after losing a batch to it.
type syslogSender struct {
	f        *trail.Forwarder
	addr     string
	tls      *tls.Config // nil for tcp://
	hostname string
	conn     net.Conn
	w        *bufio.Writer
	guard    *Guard // checks each address dialed; nil: no limit
}

func newSyslog(f *trail.Forwarder, g *Guard) (*syslogSender, error) {
	u, err := url.Parse(f.URI)
	if err != nil {
		return nil, fmt.Errorf("syslog uri: %w", err)
	}
	s := &syslogSender{f: f, addr: u.Host, hostname: f.Syslog.Hostname, guard: g}
	if s.hostname == "" {
		s.hostname, _ = os.Hostname()
	}
	if u.Scheme == "tls" {
		s.tls = &tls.Config{ServerName: f.Syslog.ServerName, MinVersion: tls.VersionTLS12}
		if s.tls.ServerName == "" {
			s.tls.ServerName = u.Hostname()
		}
		if f.Syslog.CA != "" {
			s.tls.RootCAs = x509.NewCertPool()
			if !s.tls.RootCAs.AppendCertsFromPEM([]byte(f.Syslog.CA)) {
				return nil, errors.New("syslog.ca: no PEM certificates")
			}
		}
	}
	return s, nil
}

func (s *syslogSender) send(ctx context.Context, b *batch) error {
	if err := s.connect(ctx); err != nil {
		return err
	}
	deadline := time.Now().Add(s.f.Timeout.Std())
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	s.conn.SetWriteDeadline(deadline)
	for _, e := range b.events {
		msg, err := s.format(e)
		if err != nil {
			return permanent(err)
		}
		s.w.WriteString(strconv.Itoa(len(msg)))
		s.w.WriteByte(' ')
		s.w.Write(msg)
	}
	if err := s.w.Flush(); err != nil {
		s.close()
		return &deliveryError{err: fmt.Errorf("syslog %s: write: %w", s.addr, err)}
	}
	return nil
}

// connect dials when there is no connection, or when the one there was
// closed by the receiver: a read that does not time out at once means EOF
// or an error, since a syslog receiver never writes.
func (s *syslogSender) connect(ctx context.Context) error {
	if s.conn != nil {
		s.conn.SetReadDeadline(time.Now().Add(time.Millisecond))
		var one [1]byte
		_, err := s.conn.Read(one[:])
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil
		}
		s.close()
	}
	d := s.guard.Dialer(s.f.Timeout.Std())
	var conn net.Conn
	var err error
	if s.tls != nil {
		conn, err = (&tls.Dialer{NetDialer: d, Config: s.tls}).DialContext(ctx, "tcp", s.addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", s.addr)
	}
	if err != nil {
		return &deliveryError{err: fmt.Errorf("syslog %s: %w", s.addr, err), permanent: isRefused(err)}
	}
	s.conn, s.w = conn, bufio.NewWriterSize(conn, 64<<10)
	return nil
}

// format builds one RFC 5424 message:
// <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG,
// with the action (cut to the 32 characters MSGID allows) as MSGID and the
// event's JSON, as stored, as MSG.
func (s *syslogSender) format(e *trail.Event) ([]byte, error) {
	body, err := eventJSON(e)
	if err != nil {
		return nil, err
	}
	msgID := e.Action
	if len(msgID) > 32 {
		msgID = msgID[:32]
	}
	pri := *s.f.Syslog.Facility*8 + severityInfo
	head := fmt.Sprintf("<%d>1 %s %s %s - %s - ", pri,
		e.OccurredAt.UTC().Format("2006-01-02T15:04:05.000000Z07:00"),
		nilValue(s.hostname), s.f.Syslog.AppName, msgID)
	return append([]byte(head), body...), nil
}

// nilValue is RFC 5424's "-" for an empty header field.
func nilValue(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (s *syslogSender) close() error {
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn, s.w = nil, nil
	return err
}
