package forward

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/trailhq/trail"
)

// Standard Webhooks headers (https://www.standardwebhooks.com).
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
)

// DefaultTolerance is how far a webhook's timestamp may be from the
// receiver's clock before Verify rejects it as a possible replay.
const DefaultTolerance = 5 * time.Minute

// webhook posts events to a URL: one event as a JSON object per request,
// or, with a batch size above one, a JSON array of events.
type webhook struct {
	f      *trail.Forwarder
	client *http.Client
	now    func() time.Time
}

func newWebhook(f *trail.Forwarder, now func() time.Time, g *Guard) *webhook {
	return &webhook{f: f, client: newHTTPClient(f.Timeout.Std(), g), now: now}
}

func (w *webhook) send(ctx context.Context, b *batch) error {
	body, err := webhookBody(b.events, w.f.Batch.Size > 1)
	if err != nil {
		return permanent(err)
	}
	// Every attempt is signed anew: the timestamp says when this request
	// was sent, so that receivers can reject old requests replayed later.
	// During a rotation's grace period the header holds a signature by
	// each secret, space-separated, as the spec allows.
	ts := w.now()
	var sigs []string
	for _, secret := range w.f.SigningSecrets(ts) {
		sig, err := Sign(secret, b.id, ts, body)
		if err != nil {
			return permanent(err)
		}
		sigs = append(sigs, sig)
	}
	req, err := http.NewRequestWithContext(ctx, w.f.Method, w.f.URI, bytes.NewReader(body))
	if err != nil {
		return permanent(fmt.Errorf("build request: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent(w.f))
	req.Header.Set(HeaderWebhookID, b.id)
	req.Header.Set(HeaderWebhookTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(HeaderWebhookSignature, strings.Join(sigs, " "))
	if w.f.Token != "" {
		req.Header.Set("Authorization", "Bearer "+w.f.Token)
	}
	return doHTTP(w.client, req)
}

// webhookBody is one event's JSON exactly as stored, the body of GET
// /v1/events/{id}, or with array set the JSON array of the events' stored
// JSON: what json.Marshal writes for the events, without encoding them.
func webhookBody(evs []*trail.Event, array bool) ([]byte, error) {
	if !array {
		return eventJSON(evs[0])
	}
	body := []byte{'['}
	for i, e := range evs {
		data, err := eventJSON(e)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, data...)
	}
	return append(body, ']'), nil
}

func (w *webhook) close() error {
	w.client.CloseIdleConnections()
	return nil
}

// Sign returns the webhook-signature header value for a message: "v1,"
// and the base64 HMAC-SHA256, keyed with the secret's decoded bytes, of
// "<id>.<unix timestamp>.<body>", as the Standard Webhooks spec defines.
func Sign(secret, id string, ts time.Time, body []byte) (string, error) {
	key, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, id, ts.Unix(), body)), nil
}

// Verify checks a webhook request as a receiver should: the signature
// header holds a valid "v1" signature by secret of the webhook-id,
// webhook-timestamp and body, and the timestamp is within tolerance of
// now, so that a captured request cannot be replayed later. Receivers
// should also remember recent webhook-ids, which stay the same when Trail
// delivers an event again, to drop duplicates.
func Verify(secret string, h http.Header, body []byte, tolerance time.Duration, now time.Time) error {
	key, err := secretKey(secret)
	if err != nil {
		return err
	}
	id, tsText, sigs := h.Get(HeaderWebhookID), h.Get(HeaderWebhookTimestamp), h.Get(HeaderWebhookSignature)
	if id == "" || tsText == "" || sigs == "" {
		return errors.New("webhook: missing webhook-id, webhook-timestamp or webhook-signature header")
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return errors.New("webhook: malformed webhook-timestamp")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return errors.New("webhook: timestamp outside the tolerance: too old or too new")
	}
	want := mac(key, id, ts, body)
	// The header may hold several space-separated signatures, one per
	// secret during a rotation; one valid "v1" signature suffices.
	for _, s := range strings.Fields(sigs) {
		version, b64, ok := strings.Cut(s, ",")
		got, err := base64.StdEncoding.DecodeString(b64)
		if ok && version == "v1" && err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("webhook: no matching signature")
}

func mac(key []byte, id string, ts int64, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "%s.%d.", id, ts)
	m.Write(body)
	return m.Sum(nil)
}

// secretKey decodes a "whsec_..." secret into its key bytes.
func secretKey(secret string) ([]byte, error) {
	b64, ok := strings.CutPrefix(secret, "whsec_")
	key, err := base64.StdEncoding.DecodeString(b64)
	if !ok || err != nil || len(key) == 0 {
		return nil, errors.New(`webhook: secret must be "whsec_" and base64`)
	}
	return key, nil
}
