package trail

import (
	"context"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Alert conditions.
const (
	// AlertAny fires once for every matching event.
	AlertAny = "any"
	// AlertThreshold fires when Count matching events of one group arrive
	// within Window.
	AlertThreshold = "threshold"
)

// Alert groupings: what one threshold count is kept per.
const (
	GroupByNone   = ""       // one count for the whole rule
	GroupByActor  = "actor"  // per actor (type and id)
	GroupByTarget = "target" // per target (type and id); an event counts for each of its targets
	GroupByIP     = "ip"     // per context.ip
)

// Webhook payload formats.
const (
	WebhookJSON  = "json"  // Trail's plain JSON document
	WebhookSlack = "slack" // Slack-compatible {"text": ...}, for Slack and Mattermost incoming webhooks
)

// Limits on alert rules.
const (
	MaxAlertCount  = 10_000
	MaxAlertWindow = 7 * 24 * time.Hour
	maxRuleName    = 200
	maxURLLen      = 2048
)

// AlertRule watches the event stream of its tenant and fires when its
// filter matches: on every match, or when a threshold is reached within a
// window. A firing is recorded as an event (actor type "alert") and sent to
// the rule's webhook.
type AlertRule struct {
	ID string `json:"id"`
	// Tenant owns the rule, which sees only that tenant's events; "" makes
	// a platform rule, which sees every tenant's events and counts each
	// tenant apart.
	Tenant    string         `json:"tenant"`
	Name      string         `json:"name"`
	Filter    AlertFilter    `json:"filter"`
	Condition AlertCondition `json:"condition"`
	Webhook   AlertWebhook   `json:"webhook"`
	CreatedAt time.Time      `json:"created_at"`
	// CreatedBy is the id of the API key, or console user, that created
	// the rule.
	CreatedBy string `json:"created_by,omitempty"`
	// Disabled rules count nothing and never fire, until enabled again.
	Disabled bool `json:"disabled,omitempty"`
}

// AlertFilter selects the events a rule counts. Empty fields do not filter.
type AlertFilter struct {
	// Actions matches any entry; "user.*" matches every action under user.
	Actions    []string           `json:"actions,omitempty"`
	ActorType  string             `json:"actor_type,omitempty"`
	ActorID    string             `json:"actor_id,omitempty"`
	TargetType string             `json:"target_type,omitempty"`
	TargetID   string             `json:"target_id,omitempty"`
	Context    AlertContextFilter `json:"context,omitzero"`
}

// AlertContextFilter matches an event's context.
type AlertContextFilter struct {
	// IP is an address ("203.0.113.7") or a CIDR prefix ("10.0.0.0/8").
	IP       string `json:"ip,omitempty"`
	Location string `json:"location,omitempty"`
}

// AlertCondition says when matching events fire.
type AlertCondition struct {
	// Type is AlertAny or AlertThreshold.
	Type string `json:"type"`
	// Count and Window make a threshold: Count matching events of one
	// group whose received_at lie within Window of each other.
	Count  int      `json:"count,omitempty"`
	Window Duration `json:"window,omitzero"`
	// GroupBy is one of the GroupBy constants.
	GroupBy string `json:"group_by,omitempty"`
}

// AlertWebhook is where a firing is sent.
type AlertWebhook struct {
	URL    string `json:"url"`
	Format string `json:"format"`
	// Secret, when set, signs each request: the X-Trail-Signature header
	// is "sha256=" and the hex HMAC-SHA256 of the body. Reads return it
	// redacted.
	Secret string `json:"secret,omitempty"`
}

// Validate checks r, filling in defaults (webhook format json), and
// returns every problem at once.
func (r *AlertRule) Validate() error {
	var p Problems
	switch {
	case strings.TrimSpace(r.Name) == "":
		p.Add(-1, "name", "required")
	case len(r.Name) > maxRuleName:
		p.Add(-1, "name", fmt.Sprintf("longer than %d characters", maxRuleName))
	case !printable(r.Name):
		p.Add(-1, "name", "contains a control character")
	}
	r.Filter.validate(&p)
	r.Condition.validate(&p)
	r.Webhook.validate(&p)
	return p.Err()
}

func (f *AlertFilter) validate(p *Problems) {
	for i, a := range f.Actions {
		if a != "*" && !isDottedWords(strings.TrimSuffix(a, ".*")) {
			p.Add(-1, fmt.Sprintf("filter.actions[%d]", i), "must be an action like user.created or a prefix like user.*")
		}
	}
	for field, v := range map[string]string{"filter.actor_type": f.ActorType, "filter.actor_id": f.ActorID,
		"filter.target_type": f.TargetType, "filter.target_id": f.TargetID, "filter.context.location": f.Context.Location} {
		if len(v) > maxIDLen || !printable(v) {
			p.Add(-1, field, fmt.Sprintf("must be at most %d printable characters", maxIDLen))
		}
	}
	if f.Context.IP != "" {
		if _, err := parseIPFilter(f.Context.IP); err != nil {
			p.Add(-1, "filter.context.ip", "must be an IP address or a CIDR prefix like 10.0.0.0/8")
		}
	}
}

func (c *AlertCondition) validate(p *Problems) {
	switch c.Type {
	case AlertAny:
		if c.Count != 0 || c.Window != 0 {
			p.Add(-1, "condition", `count and window belong to a "threshold" condition`)
		}
	case AlertThreshold:
		if c.Count < 1 || c.Count > MaxAlertCount {
			p.Add(-1, "condition.count", fmt.Sprintf("must be an integer from 1 to %d", MaxAlertCount))
		}
		if c.Window.Std() < time.Second || c.Window.Std() > MaxAlertWindow {
			p.Add(-1, "condition.window", "must be a duration from 1s to 168h, like 10m")
		}
	default:
		p.Add(-1, "condition.type", `must be "any" or "threshold"`)
	}
	if !slices.Contains([]string{GroupByNone, GroupByActor, GroupByTarget, GroupByIP}, c.GroupBy) {
		p.Add(-1, "condition.group_by", "must be actor, target or ip, or absent")
	}
}

func (w *AlertWebhook) validate(p *Problems) {
	u, err := url.Parse(w.URL)
	switch {
	case w.URL == "":
		p.Add(-1, "webhook.url", "required")
	case len(w.URL) > maxURLLen:
		p.Add(-1, "webhook.url", fmt.Sprintf("longer than %d characters", maxURLLen))
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		p.Add(-1, "webhook.url", "must be an http:// or https:// URL")
	}
	if w.Format == "" {
		w.Format = WebhookJSON
	}
	if w.Format != WebhookJSON && w.Format != WebhookSlack {
		p.Add(-1, "webhook.format", `must be "json" or "slack"`)
	}
	if len(w.Secret) > 256 {
		p.Add(-1, "webhook.secret", "longer than 256 characters")
	}
}

func parseIPFilter(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		pfx, err := netip.ParsePrefix(s)
		return pfx.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Sees reports whether rule r watches event e: e belongs to r's tenant (any
// tenant for a platform rule), is not itself an alert, and passes r's
// filter, and r is not disabled. Alert events never count, so that a rule cannot feed on its own
// firings.
func (r *AlertRule) Sees(e *Event) bool {
	if r.Disabled || r.Tenant != SystemTenant && e.Tenant != r.Tenant || e.Actor.Type == ActorAlert {
		return false
	}
	return r.Filter.Match(e)
}

// Match reports whether e passes filter f.
func (f *AlertFilter) Match(e *Event) bool {
	if len(f.Actions) > 0 && !slices.ContainsFunc(f.Actions, func(a string) bool { return MatchAction(a, e.Action) }) {
		return false
	}
	if f.ActorType != "" && e.Actor.Type != f.ActorType || f.ActorID != "" && e.Actor.ID != f.ActorID {
		return false
	}
	if f.Context.Location != "" && e.Context.Location != f.Context.Location {
		return false
	}
	if f.Context.IP != "" {
		pfx, err := parseIPFilter(f.Context.IP)
		a, aerr := netip.ParseAddr(e.Context.IP)
		if err != nil || aerr != nil || !pfx.Contains(a.Unmap()) {
			return false
		}
	}
	if f.TargetType == "" && f.TargetID == "" {
		return true
	}
	return slices.ContainsFunc(e.Targets, f.matchTarget)
}

func (f *AlertFilter) matchTarget(t Target) bool {
	return (f.TargetType == "" || t.Type == f.TargetType) && (f.TargetID == "" || t.ID == f.TargetID)
}

// Redacted returns a copy of r whose webhook secret shows only its last
// four characters.
func (r *AlertRule) Redacted() *AlertRule {
	c := *r
	c.Webhook.Secret = redact(r.Webhook.Secret)
	return &c
}

// AlertWindow is the durable state of one group of a threshold rule: the
// matching events still inside the window.
type AlertWindow struct {
	RuleID   string `json:"rule_id"`
	GroupKey string `json:"group_key"`
	// Times are the received_at of the counted events, oldest first; at
	// most the rule's Count.
	Times    []time.Time `json:"times"`
	EventIDs []string    `json:"event_ids"`
	// SilencedUntil is the end of the window that last fired: events
	// received before it do not count again.
	SilencedUntil time.Time `json:"silenced_until,omitzero"`
}

// AlertFiring is one firing of a rule, unique per (rule, group, window
// start), and its delivery progress.
type AlertFiring struct {
	ID     string `json:"id"`
	RuleID string `json:"rule_id"`
	// Tenant is the tenant whose events fired, where the alert event is
	// recorded.
	Tenant      string    `json:"tenant"`
	GroupKey    string    `json:"group_key"`
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
	Count       int       `json:"count"`
	EventIDs    []string  `json:"event_ids"`
	// Subject is the entity the firing is about: the actor, target or IP
	// of its group, or the actor of the event for an "any" rule.
	Subject *Target   `json:"subject,omitempty"`
	FiredAt time.Time `json:"fired_at"`

	// AlertEventID is the id of the alert event, fixed when the firing is
	// made so that recording it again is a no-op.
	AlertEventID  string    `json:"alert_event_id"`
	Recorded      bool      `json:"recorded"`
	DeliveredAt   time.Time `json:"delivered_at,omitzero"`
	Attempts      int       `json:"attempts"`
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
	LastError     string    `json:"last_error,omitempty"`
	// GaveUp is set when delivery failed too many times.
	GaveUp bool `json:"gave_up,omitempty"`
}

// AlertWindowKey names one window state.
type AlertWindowKey struct{ RuleID, GroupKey string }

// AlertProgress is one round of evaluation, stored in one transaction: the
// cursor moves from After to Cursor, window states change and new firings
// are added (a firing whose (rule, group, window start) exists is ignored).
type AlertProgress struct {
	// After is the cursor the round started from; the save fails with
	// ECONFLICT when the stored cursor is not After, which fences off an
	// evaluator that lost its lease.
	After   int64
	Cursor  int64
	Windows []*AlertWindow
	Deleted []AlertWindowKey
	Firings []*AlertFiring
}

// AlertStore keeps alert rules, the evaluator's durable state and firings.
type AlertStore interface {
	CreateAlertRule(ctx context.Context, r *AlertRule) error
	// AlertRule returns rule id, or ENOTFOUND when it is not in scope.
	AlertRule(ctx context.Context, scope Scope, id string) (*AlertRule, error)
	// AlertRules lists scope.Tenant's rules, or every rule when scope.All,
	// oldest first.
	AlertRules(ctx context.Context, scope Scope) ([]*AlertRule, error)
	// DeleteAlertRule deletes rule id with its windows and undelivered
	// firings; ENOTFOUND when it is not in scope.
	DeleteAlertRule(ctx context.Context, scope Scope, id string) error
	// UpdateAlertRule replaces the settings of rule r.ID, which must be in
	// scope (ENOTFOUND otherwise), and drops its window states: counts
	// kept under the old settings do not carry over. Firings stay.
	UpdateAlertRule(ctx context.Context, scope Scope, r *AlertRule) error

	// StartAlertCursor sets the evaluator's cursor to the stream's head
	// (the Pos of the newest event) when it was never set, so that rules
	// see new events only, and returns the cursor.
	StartAlertCursor(ctx context.Context) (int64, error)
	// AlertState returns the evaluator's cursor (-1 before
	// StartAlertCursor) and every window state.
	AlertState(ctx context.Context) (cursor int64, windows []*AlertWindow, err error)
	// SaveAlertProgress stores one round atomically; ECONFLICT, changing
	// nothing, when the stored cursor is not p.After.
	SaveAlertProgress(ctx context.Context, p *AlertProgress) error

	// PendingAlertFirings returns up to limit firings not yet delivered
	// nor given up whose NextAttemptAt is not after now, oldest first.
	PendingAlertFirings(ctx context.Context, now time.Time, limit int) ([]*AlertFiring, error)
	// UpdateAlertFiring stores f's delivery progress.
	UpdateAlertFiring(ctx context.Context, f *AlertFiring) error
	// AlertFirings lists the newest firings of rule ruleID, newest first.
	AlertFirings(ctx context.Context, ruleID string, limit int) ([]*AlertFiring, error)
}
