package forward

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/trailhq/trail"
)

// batch is the events of one delivery, in stream order.
type batch struct {
	// id is stable for the same events, so a redelivery carries the same
	// webhook-id and writes the same S3 key.
	id     string
	events []*trail.Event
}

// batchID is the event's id for a single-event delivery, and a digest of
// the first and last event ids and the count for a batch.
func batchID(evs []*trail.Event, single bool) string {
	if single && len(evs) == 1 {
		return evs[0].ID
	}
	h := sha256.Sum256([]byte(fmt.Sprintf("%s.%s.%d", evs[0].ID, evs[len(evs)-1].ID, len(evs))))
	return "batch_" + hex.EncodeToString(h[:16])
}

// eventJSON is the event's JSON as stored (trail.StoredJSON): forwarders
// send the bytes the store keeps and the ledger hashes, never a second
// encoding of their own.
func eventJSON(e *trail.Event) ([]byte, error) {
	data, err := trail.StoredJSON(e)
	if err != nil {
		return nil, fmt.Errorf("encode event %s: %w", e.ID, err)
	}
	return data, nil
}

// sender delivers batches to one destination. send returns nil once the
// destination acknowledged the whole batch.
type sender interface {
	send(ctx context.Context, b *batch) error
	close() error
}

// newSender builds the sender of f's kind, whose connections g checks
// (nil: no limit).
func newSender(f *trail.Forwarder, now func() time.Time, g *Guard) (sender, error) {
	switch f.Kind {
	case trail.ForwarderWebhook:
		return newWebhook(f, now, g), nil
	case trail.ForwarderSplunk:
		return newSplunk(f, g), nil
	case trail.ForwarderSyslog:
		return newSyslog(f, g)
	case trail.ForwarderS3:
		return newS3(f, g)
	}
	return nil, fmt.Errorf("forwarder %s: unknown kind %q", f.Name, f.Kind)
}

// deliveryError is a failed attempt. A permanent one is not retried: its
// events go to the dead-letter list at once.
type deliveryError struct {
	err        error
	permanent  bool
	retryAfter time.Duration // the receiver's Retry-After, if any
	// body is the start of the receiver's answer: logged for operator
	// forwarders, never kept in a status or dead letter, which a tenant
	// reads (a tenant's receiver may be a service it should not read).
	body string
}

func (e *deliveryError) Error() string { return e.err.Error() }
func (e *deliveryError) Unwrap() error { return e.err }

func permanent(err error) error { return &deliveryError{err: err, permanent: true} }

func isPermanent(err error) bool {
	var de *deliveryError
	return errors.As(err, &de) && de.permanent
}

// backoff returns the pause before attempt n+1 after n failed attempts:
// exponential from min to max, with "equal jitter" (half fixed, half
// random) so that many forwarders retrying at once spread out, and never
// shorter than the receiver's Retry-After (capped at max).
func backoff(n int, min, max time.Duration, err error) time.Duration {
	d := max
	if n < 32 && min<<(n-1) < max && min<<(n-1) > 0 {
		d = min << (n - 1)
	}
	d = d/2 + rand.N(d/2+1)
	var de *deliveryError
	if errors.As(err, &de) && de.retryAfter > d {
		d = de.retryAfter
	}
	if d > max {
		d = max
	}
	return d
}

// userAgent is the User-Agent of f's HTTP requests: f.UserAgent, or
// Trail's.
func userAgent(f *trail.Forwarder) string {
	if f.UserAgent != "" {
		return f.UserAgent
	}
	return "Trail-Audit-Forwarder/" + trail.Version
}

// newHTTPClient returns a client that does not follow redirects: a POST
// turned into a GET by a 302 would look delivered without being so.
func newHTTPClient(timeout time.Duration, g *Guard) *http.Client {
	return &http.Client{
		Timeout:   timeout,
		Transport: g.Transport(),
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// doHTTP sends req and classifies the answer: 2xx is delivered; 408, 429
// and 5xx are worth retrying, as are network errors and timeouts; any
// other status means the receiver rejects the request as it is, so it is
// permanent.
func doHTTP(c *http.Client, req *http.Request) error {
	resp, err := c.Do(req)
	if err != nil {
		err = fmt.Errorf("%s %s: %w", req.Method, req.URL.Redacted(), unwrapURLError(err))
		return &deliveryError{err: err, permanent: isRefused(err)}
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // lets the connection be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	// The status only: the body stays out of what a tenant can read.
	de := &deliveryError{err: fmt.Errorf("%s %s: %s", req.Method, req.URL.Redacted(), statusText(resp)),
		body: oneLine(snippet)}
	switch {
	case resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode == http.StatusTooManyRequests,
		resp.StatusCode >= 500:
		de.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"))
	default:
		de.permanent = true
	}
	return de
}

// statusText is the answer's status code and its standard reason phrase,
// not the receiver's, which could carry anything.
func statusText(resp *http.Response) string {
	return strings.TrimSpace(fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode)))
}

// responseBody returns the receiver's answer kept in err, for logs.
func responseBody(err error) string {
	var de *deliveryError
	if errors.As(err, &de) {
		return de.body
	}
	return ""
}

// unwrapURLError drops the *url.Error wrapper, whose message repeats the
// URL with its query string, which may hold a credential.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func parseRetryAfter(s string) time.Duration {
	if n, err := strconv.Atoi(s); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	return 0
}

// oneLine shortens a response body for an error message.
func oneLine(b []byte) string {
	s := strings.Join(strings.Fields(string(bytes.ToValidUTF8(b, nil))), " ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
