// Package client is the Go client of Trail's HTTP API: applications use it
// to publish audit events, read them back and export them, and operators
// use it to manage API keys.
//
// A Client sends one request per call. A Publisher batches events in the
// background and retries failed batches with the same Idempotency-Key, so a
// retried batch is never stored twice.
//
// The client reuses the domain types of package trail (trail.Event,
// trail.Actor, trail.Target, trail.APIKey), so what an application reads
// back is exactly what the server stores.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/trailhq/trail"
)

// Client talks to one Trail server with one API key. It is safe for
// concurrent use.
type Client struct {
	base      *url.URL
	baseErr   error
	key       string
	http      *http.Client
	userAgent string
	now       func() time.Time
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the client send its requests through hc, for custom
// timeouts, proxies or TLS settings. The default has no overall timeout,
// because exports may stream for a long time; bound calls with a context.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) { c.http = hc }
}

// WithUserAgent sets the User-Agent header of every request.
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.userAgent = ua }
}

// WithClock sets the clock that fills in OccurredAt of events that leave it
// zero. Tests use it; the default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *Client) { c.now = now }
}

// New returns a client for the server at baseURL (such as
// "http://127.0.0.1:8080") that authenticates with the API key secret key.
// An invalid baseURL is reported by the first call.
func New(baseURL, key string, opts ...Option) *Client {
	c := &Client{
		key:       key,
		http:      http.DefaultClient,
		userAgent: "trail-go-client/" + trail.Version,
		now:       time.Now,
	}
	c.base, c.baseErr = parseBase(baseURL)
	for _, o := range opts {
		o(c)
	}
	return c
}

func parseBase(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(s, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("trail client: server URL %q: must look like http://127.0.0.1:8080", s)
	}
	return u, nil
}

// Error is an error answer of the server, decoded from its JSON body
// {"error": {"code", "message", "details"}}.
type Error struct {
	// Status is the HTTP status code.
	Status int
	// Code is one of the trail.E* codes, such as trail.EINVALID.
	Code    string
	Message string
	// Details lists the problems of an invalid request, one per field.
	Details []trail.Detail
	// RetryAfter is the server's Retry-After header, zero when absent.
	RetryAfter time.Duration
}

// Error implements the error interface.
func (e *Error) Error() string {
	msg := fmt.Sprintf("trail: %d %s: %s", e.Status, e.Code, e.Message)
	if len(e.Details) > 1 {
		msg += fmt.Sprintf(" (%d problems)", len(e.Details))
	}
	return msg
}

// Temporary reports whether the request may succeed if sent again: the
// server was overloaded (429) or failed (5xx).
func (e *Error) Temporary() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// request is one API call.
type request struct {
	method  string
	path    string // escaped path under the base URL, e.g. /v1/events
	query   url.Values
	body    any
	raw     []byte // a body already encoded, sent as is instead of body
	headers map[string]string
}

// do sends r and decodes a successful JSON answer into out (if not nil).
func (c *Client) do(ctx context.Context, r request, out any) error {
	resp, err := c.send(ctx, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("trail client: %s %s: decode response: %w", r.method, r.path, err)
	}
	return nil
}

// send sends r and returns the response when its status is 2xx; any other
// status is returned as an *Error and the body is closed.
func (c *Client) send(ctx context.Context, r request) (*http.Response, error) {
	req, err := c.newRequest(ctx, r)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("trail client: %w", err) // names the method and URL
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, decodeError(resp)
}

func (c *Client) newRequest(ctx context.Context, r request) (*http.Request, error) {
	if c.baseErr != nil {
		return nil, c.baseErr
	}
	u := *c.base
	u.Path += r.path
	u.RawPath = ""
	if c.base.RawPath != "" || strings.Contains(r.path, "%") {
		u.RawPath = c.base.EscapedPath() + r.path
	}
	u.RawQuery = r.query.Encode()
	var body io.Reader
	switch {
	case r.raw != nil:
		body = bytes.NewReader(r.raw)
	case r.body != nil:
		b, err := json.Marshal(r.body)
		if err != nil {
			return nil, fmt.Errorf("trail client: encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("trail client: %w", err)
	}
	if r.body != nil || r.raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	req.Header.Set("User-Agent", c.userAgent)
	for k, v := range r.headers {
		req.Header.Set(k, v)
	}
	return req, nil
}

// decodeError turns a non-2xx response into an *Error. Bodies that are not
// Trail's error JSON (a proxy's HTML page, say) keep their first bytes as
// the message, so the caller still sees what happened.
func decodeError(resp *http.Response) error {
	e := &Error{Status: resp.StatusCode, RetryAfter: retryAfter(resp.Header.Get("Retry-After"))}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var body struct {
		Error *trail.Error `json:"error"`
	}
	if json.Unmarshal(b, &body) == nil && body.Error != nil {
		e.Code, e.Message, e.Details = body.Error.Code, body.Error.Message, body.Error.Details
		return e
	}
	e.Code = codeForStatus(resp.StatusCode)
	e.Message = strings.TrimSpace(string(b))
	if len(e.Message) > 200 {
		e.Message = e.Message[:200] + "..."
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}

func codeForStatus(status int) string {
	switch {
	case status == http.StatusTooManyRequests:
		return trail.ERATELIMITED
	case status == http.StatusBadGateway, status == http.StatusServiceUnavailable,
		status == http.StatusGatewayTimeout:
		return trail.EUNAVAILABLE
	case status >= 500:
		return trail.EINTERNAL
	case status == http.StatusNotFound:
		return trail.ENOTFOUND
	case status == http.StatusUnauthorized:
		return trail.EUNAUTHORIZED
	case status == http.StatusForbidden:
		return trail.EFORBIDDEN
	default:
		return trail.EINVALID
	}
}

func retryAfter(s string) time.Duration {
	if s == "" {
		return 0
	}
	var secs int
	if _, err := fmt.Sscanf(s, "%d", &secs); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(s); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}
