package alert

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/forward"
)

// Backoff between webhook attempts of one firing.
const (
	minBackoff = time.Second
	maxBackoff = 10 * time.Minute
)

// deliverLoop records and sends due firings until ctx ends.
func (ev *Evaluator) deliverLoop(ctx context.Context) error {
	for {
		due, err := ev.cfg.Store.PendingAlertFirings(ctx, ev.cfg.Now(), 50)
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("list due firings: %w", err)
		}
		for _, f := range due {
			if err := ev.deliver(ctx, f); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
		}
		if len(due) == 50 {
			continue
		}
		if err := sleep(ctx, ev.cfg.Poll); err != nil {
			return nil
		}
	}
}

// deliver records f as an event (once) and sends it to its rule's
// webhook, then stores the outcome. Only store failures are returned;
// webhook failures are retried later with backoff.
func (ev *Evaluator) deliver(ctx context.Context, f *trail.AlertFiring) error {
	store := ev.cfg.Store
	r, err := store.AlertRule(ctx, trail.Scope{All: true}, f.RuleID)
	switch {
	case trail.ErrorCode(err) == trail.ENOTFOUND:
		f.GaveUp, f.LastError = true, "the rule was deleted"
		return store.UpdateAlertFiring(ctx, f)
	case err != nil:
		return fmt.Errorf("read rule of firing %s: %w", f.ID, err)
	}
	if !f.Recorded {
		if err := ev.record(ctx, r, f); err != nil {
			return err
		}
		f.Recorded = true
		if err := store.UpdateAlertFiring(ctx, f); err != nil {
			return err
		}
	}
	now := ev.cfg.Now().UTC()
	f.Attempts++
	if err := ev.send(ctx, r, f); err != nil {
		f.LastError = forward.ErrorText(err)
		f.NextAttemptAt = now.Add(backoff(f.Attempts))
		f.GaveUp = f.Attempts >= ev.cfg.MaxAttempts
		ev.log.Warn("alert webhook failed", "rule", r.ID, "firing", f.ID, "attempt", f.Attempts, "err", err)
	} else {
		f.DeliveredAt, f.LastError = now, ""
	}
	return store.UpdateAlertFiring(ctx, f)
}

func backoff(attempt int) time.Duration {
	d := minBackoff << min(attempt-1, 20)
	return min(d, maxBackoff)
}

// record appends the alert event of f. The batch carries f's id as its
// idempotency key and the event has the id fixed in f, so recording again
// after a crash stores nothing new.
func (ev *Evaluator) record(ctx context.Context, r *trail.AlertRule, f *trail.AlertFiring) error {
	e := AlertEvent(r, f)
	b := &trail.Batch{Events: []*trail.Event{e}, Idempotency: &trail.Idempotency{
		Namespace: "alert", Key: f.ID,
		Response: trail.IdempotentResponse{RequestHash: f.ID, Status: http.StatusCreated, Body: []byte(e.ID)},
	}}
	if err := ev.cfg.Writer.Append(ctx, b); err != nil {
		return fmt.Errorf("record alert event of firing %s: %w", f.ID, err)
	}
	return nil
}

// AlertEvent returns the event that records firing f of rule r: action
// "alert.fired", actor the rule (type "alert"), targets the rule and the
// firing's subject, metadata what fired.
func AlertEvent(r *trail.AlertRule, f *trail.AlertFiring) *trail.Event {
	targets := []trail.Target{{Type: "alert_rule", ID: r.ID, Name: r.Name}}
	if f.Subject != nil && f.Subject.ID != "" {
		targets = append(targets, *f.Subject)
	}
	e := trail.NewSystemEvent(trail.AuditLog(f.Tenant), "alert.fired", trail.Actor{Type: trail.ActorAlert, ID: r.ID, Name: r.Name},
		trail.Context{}, f.FiredAt, targets...)
	e.ID = f.AlertEventID
	e.Metadata, _ = json.Marshal(map[string]any{
		"firing_id": f.ID, "rule_id": r.ID, "group": f.GroupKey, "count": f.Count,
		"window_start": f.WindowStart, "window_end": f.WindowEnd, "event_ids": f.EventIDs,
		"condition": r.Condition,
	})
	return e
}

// send posts f to r's webhook; any answer but 2xx is a failure.
func (ev *Evaluator) send(ctx context.Context, r *trail.AlertRule, f *trail.AlertFiring) error {
	body, err := Payload(r, f)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.Webhook.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Trail/"+trail.Version)
	req.Header.Set("X-Trail-Alert-Id", f.ID)
	if r.Webhook.Secret != "" {
		req.Header.Set("X-Trail-Signature", Sign(r.Webhook.Secret, body))
	}
	client := ev.cfg.Client
	if r.Tenant != trail.SystemTenant {
		client = ev.tenant
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// The code and its standard reason only: nothing the receiver
		// wrote reaches the firing, which a tenant reads.
		return fmt.Errorf("webhook answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return nil
}

// Sign returns the X-Trail-Signature of body: "sha256=" and the hex
// HMAC-SHA256 of body under secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}
