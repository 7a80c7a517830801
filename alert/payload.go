package alert

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/trailhq/trail"
)

// Message is the JSON document that a "json" webhook receives.
type Message struct {
	// ID is the firing's id, also sent as X-Trail-Alert-Id: a receiver
	// that sees it twice (a retry after a lost answer) can drop the copy.
	ID           string          `json:"id"`
	Rule         MessageRule     `json:"rule"`
	Tenant       string          `json:"tenant"`
	Group        string          `json:"group"`
	Subject      *trail.Target   `json:"subject,omitempty"`
	Count        int             `json:"count"`
	WindowStart  time.Time       `json:"window_start"`
	WindowEnd    time.Time       `json:"window_end"`
	EventIDs     []string        `json:"event_ids"`
	AlertEventID string          `json:"alert_event_id"`
	FiredAt      time.Time       `json:"fired_at"`
	Summary      string          `json:"summary"`
	Condition    json.RawMessage `json:"condition"`
}

// MessageRule names the rule that fired.
type MessageRule struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Tenant string `json:"tenant"`
}

// Payload returns the body sent to r's webhook for f, in r's format.
func Payload(r *trail.AlertRule, f *trail.AlertFiring) ([]byte, error) {
	if r.Webhook.Format == trail.WebhookSlack {
		return json.Marshal(map[string]string{"text": slackText(r, f)})
	}
	cond, err := json.Marshal(r.Condition)
	if err != nil {
		return nil, err
	}
	return json.Marshal(Message{
		ID: f.ID, Rule: MessageRule{ID: r.ID, Name: r.Name, Tenant: r.Tenant}, Tenant: f.Tenant,
		Group: f.GroupKey, Subject: f.Subject, Count: f.Count, WindowStart: f.WindowStart, WindowEnd: f.WindowEnd,
		EventIDs: f.EventIDs, AlertEventID: f.AlertEventID, FiredAt: f.FiredAt, Summary: Summary(r, f), Condition: cond,
	})
}

// Summary describes f in one sentence, such as "5 events matching
// login.failure for user u1 within 10m0s".
func Summary(r *trail.AlertRule, f *trail.AlertFiring) string {
	what := "any action"
	if len(r.Filter.Actions) > 0 {
		what = strings.Join(r.Filter.Actions, ", ")
	}
	s := fmt.Sprintf("%d event(s) matching %s", f.Count, what)
	if f.Subject != nil && f.Subject.ID != "" {
		s += fmt.Sprintf(" for %s %s", f.Subject.Type, f.Subject.ID)
	}
	if r.Condition.Type == trail.AlertThreshold {
		s += " within " + r.Condition.Window.Std().String()
	}
	if f.Tenant != "" {
		s += " in tenant " + f.Tenant
	}
	return s
}

// slackText is the text of a Slack-compatible message: Slack's mrkdwn,
// which Mattermost and others read too.
func slackText(r *trail.AlertRule, f *trail.AlertFiring) string {
	return fmt.Sprintf(":rotating_light: *Trail alert: %s*\n%s (from %s to %s).\nAlert event: `%s`",
		slackEscape(r.Name), slackEscape(Summary(r, f)),
		f.WindowStart.UTC().Format(time.RFC3339), f.WindowEnd.UTC().Format(time.RFC3339), f.AlertEventID)
}

// slackEscape escapes the three characters Slack gives meaning to.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
