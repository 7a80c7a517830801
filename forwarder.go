package trail

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"slices"
	"strings"
	"time"
)

// Forwarder kinds.
const (
	ForwarderWebhook = "webhook" // HTTP POST, signed per the Standard Webhooks spec
	ForwarderSplunk  = "splunk"  // Splunk HTTP Event Collector
	ForwarderSyslog  = "syslog"  // RFC 5424 over TCP or TLS, octet-counted
	ForwarderS3      = "s3"      // gzipped JSON Lines objects in an S3-compatible bucket
)

// ForwarderKinds lists every forwarder kind, in the order they are
// documented.
var ForwarderKinds = []string{ForwarderWebhook, ForwarderSplunk, ForwarderSyslog, ForwarderS3}

// Forwarder delivery states.
const (
	// ForwarderActive: the last delivery succeeded, or none was needed yet.
	ForwarderActive = "active"
	// ForwarderRetrying: the current batch failed and is being retried.
	ForwarderRetrying = "retrying"
	// ForwarderFailing: the current batch failed many times in a row, or
	// events went to the dead-letter list since the last success.
	ForwarderFailing = "failing"
)

// Who manages a forwarder.
const (
	ManagedByAPI    = "api"    // created through /v1/forwarders
	ManagedByConfig = "config" // declared in the server's config file
)

// Forwarder start positions for a new forwarder.
const (
	StartNow       = "now"       // only events stored after the forwarder is created
	StartBeginning = "beginning" // every stored event, oldest first
)

// Forwarder is a destination that receives a copy of every event it
// matches, in stream order, at least once. Its yaml tags let the server's
// config file declare forwarders with the same fields as the API.
type Forwarder struct {
	// ID is assigned by Trail; delivery progress and dead letters hang on it.
	ID string `json:"id" yaml:"-"`
	// Tenant owns the forwarder, which then sees only that tenant's events
	// and system events. "" makes an operator forwarder, which sees every
	// tenant.
	Tenant string `json:"tenant,omitempty" yaml:"-"`
	Name   string `json:"name" yaml:"name"`
	Kind   string `json:"kind" yaml:"kind"`
	// URI is where events go: an http(s) URL for webhook and splunk,
	// tcp://host:port or tls://host:port for syslog, the endpoint URL of the
	// S3-compatible service for s3.
	URI string `json:"uri" yaml:"uri"`
	// Token is a credential sent with every request: a bearer token for
	// webhooks, the HEC token for Splunk. Reads return it redacted.
	Token string `json:"token,omitempty" yaml:"token"`
	// Secret is the webhook signing secret, "whsec_" and base64. Trail
	// generates one when none is given. Reads return it redacted.
	Secret string `json:"secret,omitempty" yaml:"secret"`
	// SecretGrace is how long, after the signing secret changes, webhooks
	// are also signed with the previous one, so that receivers can switch
	// secrets without refusing a delivery; default 24h.
	SecretGrace Duration `json:"secret_grace,omitzero" yaml:"secret_grace"`
	// PreviousSecret is the signing secret before the last rotation, and
	// PreviousSecretUntil when Trail stops signing with it. Trail sets
	// both; reads return the secret redacted.
	PreviousSecret      string    `json:"previous_secret,omitempty" yaml:"-"`
	PreviousSecretUntil time.Time `json:"previous_secret_until,omitzero" yaml:"-"`
	// Method is the webhook's HTTP method: POST (default), PUT or PATCH.
	Method string `json:"method,omitempty" yaml:"method"`
	// UserAgent is the User-Agent header of the forwarder's HTTP requests
	// (webhook, splunk, s3); empty sends Trail-Audit-Forwarder/VERSION.
	UserAgent string          `json:"user_agent,omitempty" yaml:"user_agent"`
	Timeout   Duration        `json:"timeout,omitzero" yaml:"timeout"`
	Filter    ForwarderFilter `json:"filter,omitzero" yaml:"filter"`
	Batch     BatchConfig     `json:"batch,omitzero" yaml:"batch"`
	Retry     RetryConfig     `json:"retry,omitzero" yaml:"retry"`
	Splunk    *SplunkConfig   `json:"splunk,omitempty" yaml:"splunk"`
	Syslog    *SyslogConfig   `json:"syslog,omitempty" yaml:"syslog"`
	S3        *S3Config       `json:"s3,omitempty" yaml:"s3"`
	// Start says where a new forwarder begins: StartNow (default) or
	// StartBeginning. It only matters at creation.
	Start string `json:"start,omitempty" yaml:"start"`

	ManagedBy string    `json:"managed_by" yaml:"-"`
	CreatedAt time.Time `json:"created_at" yaml:"-"`
	UpdatedAt time.Time `json:"updated_at" yaml:"-"`
	// Status is the delivery progress, filled in by stores on reads.
	Status *ForwarderStatus `json:"status,omitempty" yaml:"-"`
}

// ForwarderFilter selects the events a forwarder delivers. Empty lists do
// not filter. Skipped events still move the forwarder's cursor.
type ForwarderFilter struct {
	// Actions matches any entry; "user.*" matches every action under user.
	Actions []string `json:"actions,omitempty" yaml:"actions"`
	// Tenants keeps only these tenants' events (and system events, which
	// every tenant sees).
	Tenants []string `json:"tenants,omitempty" yaml:"tenants"`
}

// BatchConfig groups events into one delivery: up to Size events, waiting
// up to Wait for more when fewer are ready. For s3, Wait is the time window
// of one object.
type BatchConfig struct {
	Size int      `json:"size,omitempty" yaml:"size"`
	Wait Duration `json:"wait,omitzero" yaml:"wait"`
}

// RetryConfig says how often a failing delivery is tried again, with
// exponential backoff and jitter between MinBackoff and MaxBackoff, before
// its events go to the dead-letter list.
type RetryConfig struct {
	MaxAttempts int      `json:"max_attempts,omitempty" yaml:"max_attempts"`
	MinBackoff  Duration `json:"min_backoff,omitzero" yaml:"min_backoff"`
	MaxBackoff  Duration `json:"max_backoff,omitzero" yaml:"max_backoff"`
}

// SplunkConfig holds the HEC fields of each event sent to Splunk.
type SplunkConfig struct {
	Index      string `json:"index,omitempty" yaml:"index"`
	Source     string `json:"source,omitempty" yaml:"source"`
	Sourcetype string `json:"sourcetype,omitempty" yaml:"sourcetype"`
	Host       string `json:"host,omitempty" yaml:"host"`
}

// SyslogConfig holds the RFC 5424 header fields and TLS settings.
type SyslogConfig struct {
	Hostname string `json:"hostname,omitempty" yaml:"hostname"`
	AppName  string `json:"app_name,omitempty" yaml:"app_name"`
	// Facility is 0 to 23; the default is 13, "log audit".
	Facility *int `json:"facility,omitempty" yaml:"facility"`
	// CA is a PEM bundle that verifies the server for tls:// URIs, in place
	// of the system roots.
	CA         string `json:"ca,omitempty" yaml:"ca"`
	ServerName string `json:"server_name,omitempty" yaml:"server_name"`
}

// S3Config names the bucket and credentials of an s3 forwarder.
type S3Config struct {
	Bucket    string `json:"bucket" yaml:"bucket"`
	Prefix    string `json:"prefix,omitempty" yaml:"prefix"`
	Region    string `json:"region,omitempty" yaml:"region"`
	AccessKey string `json:"access_key,omitempty" yaml:"access_key"`
	// SecretKey is redacted on reads, like Token.
	SecretKey string `json:"secret_key,omitempty" yaml:"secret_key"`
	// PathStyle forces path-style bucket URLs, which most self-hosted
	// S3-compatible servers want.
	PathStyle bool `json:"path_style,omitempty" yaml:"path_style"`
}

// ForwarderStatus is a forwarder's delivery progress, kept in the store so
// that a restart or another node continues where delivery stopped.
type ForwarderStatus struct {
	// Cursor is the Pos of the last event delivered or skipped. Reads
	// through the API show a tenant's forwarder's cursor in its tenant's
	// terms instead (see forward.TenantStatus).
	Cursor int64 `json:"cursor"`
	// Pending is the Pos of the last event of a batch being delivered, 0
	// when none: after a restart exactly that batch is sent again, with the
	// same webhook-id or object key.
	Pending       int64     `json:"-"`
	State         string    `json:"state"`
	Attempts      int       `json:"attempts,omitempty"`
	LastSuccessAt time.Time `json:"last_success_at,omitzero"`
	LastError     string    `json:"last_error,omitempty"`
	LastErrorAt   time.Time `json:"last_error_at,omitzero"`
	// Lag is how many events of the stream (of a tenant's forwarder: that
	// the tenant sees) lie beyond Cursor; computed on reads, not stored.
	Lag int64 `json:"lag"`
}

// DeadLetter is an event a forwarder gave up on, kept until an admin
// replays or discards it.
type DeadLetter struct {
	EventID  string    `json:"event_id"`
	Pos      int64     `json:"-"`
	Tenant   string    `json:"tenant"`
	Action   string    `json:"action"`
	Attempts int       `json:"attempts"`
	Error    string    `json:"error"`
	FailedAt time.Time `json:"failed_at"`
	// Replay is set when an admin asked to deliver the event again.
	Replay bool `json:"replay_requested"`
}

// DeadLetterQuery selects dead letters, in Pos order.
type DeadLetterQuery struct {
	After      int64 // only Pos > After
	Limit      int   // <= 0 means DefaultLimit
	ReplayOnly bool  // only those an admin asked to replay
}

// ForwarderStore keeps forwarders, their delivery progress and their
// dead letters.
type ForwarderStore interface {
	// CreateForwarder stores f with its cursor at cursor; ECONFLICT when
	// f.Tenant already has a forwarder named f.Name.
	CreateForwarder(ctx context.Context, f *Forwarder, cursor int64) error
	// UpdateForwarder replaces the settings of forwarder f.ID, keeping its
	// progress and dead letters; ENOTFOUND when it does not exist.
	UpdateForwarder(ctx context.Context, f *Forwarder) error
	// DeleteForwarder deletes forwarder id with its progress and dead
	// letters; ENOTFOUND when it does not exist.
	DeleteForwarder(ctx context.Context, id string) error
	// Forwarder returns tenant's forwarder named name, with its Status;
	// ENOTFOUND when there is none.
	Forwarder(ctx context.Context, tenant, name string) (*Forwarder, error)
	// Forwarders lists, with their Status, scope.Tenant's forwarders, or
	// every forwarder when scope.All, by tenant and name.
	Forwarders(ctx context.Context, scope Scope) ([]*Forwarder, error)

	// SaveForwarderStatus records forwarder id's progress. The stored
	// cursor never moves back, so a node that lost its lease cannot undo
	// the progress of the next one.
	SaveForwarderStatus(ctx context.Context, id string, st *ForwarderStatus) error
	// AddDeadLetters adds events to forwarder id's dead-letter list. An
	// event already there is updated: its attempts add up, its error and
	// time are replaced, and its Replay is cleared.
	AddDeadLetters(ctx context.Context, id string, dls []*DeadLetter) error
	// DeadLetters lists forwarder id's dead letters matching q, in Pos
	// order.
	DeadLetters(ctx context.Context, id string, q DeadLetterQuery) ([]*DeadLetter, error)
	// ReplayDeadLetters marks dead letters for replay: those of eventIDs,
	// or all when eventIDs is empty. It returns how many it marked.
	ReplayDeadLetters(ctx context.Context, id string, eventIDs []string) (int64, error)
	// DeleteDeadLetters removes the dead letters of eventIDs.
	DeleteDeadLetters(ctx context.Context, id string, eventIDs []string) error
	// StreamHead returns the Pos of the newest stored event, 0 when there
	// is none.
	StreamHead(ctx context.Context) (int64, error)
	// LogProgress measures stream position pos in tenant's log alone:
	// next is the Seq of the tenant's first event beyond pos (the size of
	// its log when none is), and behind how many of its stored events lie
	// beyond pos. A tenant's forwarder reports its progress this way, so
	// that it says nothing of other tenants' volume.
	LogProgress(ctx context.Context, tenant string, pos int64) (next, behind int64, err error)
}

// Duration is a time.Duration written as "5s" or "1m30s" in JSON and YAML.
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// MarshalText writes d like "5s".
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(time.Duration(d).String()), nil
}

// UnmarshalText reads a Go duration such as "500ms" or "5m".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return Errorf(EINVALID, "not a duration like 500ms, 5s or 2m: %q", b)
	}
	*d = Duration(v)
	return nil
}

// Match reports whether filter f lets event e through.
func (f *ForwarderFilter) Match(e *Event) bool {
	if len(f.Tenants) > 0 && e.Tenant != SystemTenant && !slices.Contains(f.Tenants, e.Tenant) {
		return false
	}
	if len(f.Actions) == 0 {
		return true
	}
	for _, a := range f.Actions {
		if MatchAction(a, e.Action) {
			return true
		}
	}
	return false
}

// Sees reports whether forwarder f delivers event e: e is visible to f's
// tenant and passes f's filter.
func (f *Forwarder) Sees(e *Event) bool {
	scope := Scope{Tenant: f.Tenant, All: f.Tenant == ""}
	return scope.Visible(e.Tenant) && f.Filter.Match(e)
}

// MatchAction reports whether action matches pattern: equal, "*", or a
// prefix pattern such as "user.*" (which matches user.created and
// user.login.failed but not user).
func MatchAction(pattern, action string) bool {
	if pattern == "*" || pattern == action {
		return true
	}
	prefix, ok := strings.CutSuffix(pattern, "*")
	return ok && strings.HasSuffix(prefix, ".") && strings.HasPrefix(action, prefix)
}

// LeaseName returns the lease that guards f's delivery loop, so that one
// node at a time drives it.
func (f *Forwarder) LeaseName() string { return "forwarder:" + f.Tenant + "/" + f.Name }

// Redacted returns a copy of f whose secrets show only their last four
// characters, for responses and logs.
func (f *Forwarder) Redacted() *Forwarder {
	c := *f
	c.Token = redact(f.Token)
	c.Secret = redact(f.Secret)
	c.PreviousSecret = redact(f.PreviousSecret)
	if f.S3 != nil {
		s3 := *f.S3
		s3.SecretKey = redact(s3.SecretKey)
		c.S3 = &s3
	}
	return &c
}

func redact(s string) string {
	switch {
	case s == "":
		return ""
	case len(s) < 16:
		return "****"
	default:
		return "****" + s[len(s)-4:]
	}
}

// SigningSecrets returns the secrets a webhook is signed with at now: the
// current one, and the previous one during its grace period.
func (f *Forwarder) SigningSecrets(now time.Time) []string {
	if f.PreviousSecret != "" && now.Before(f.PreviousSecretUntil) {
		return []string{f.Secret, f.PreviousSecret}
	}
	return []string{f.Secret}
}

// NewWebhookSecret returns a fresh signing secret in the Standard Webhooks
// format: "whsec_" and 32 random bytes in base64.
func NewWebhookSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}
