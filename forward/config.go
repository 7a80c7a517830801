package forward

import (
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/trailhq/trail"
)

// Defaults for fields a forwarder leaves empty.
const (
	DefaultTimeout     = 5 * time.Second
	DefaultSecretGrace = 24 * time.Hour
	MaxSecretGrace     = 30 * 24 * time.Hour
	DefaultMaxAttempts = 50 // with the default backoff, about four hours of retries
	DefaultMinBackoff  = time.Second
	DefaultMaxBackoff  = 5 * time.Minute
	DefaultS3Window    = time.Minute
	DefaultFacility    = 13 // RFC 5424 "log audit"
	DefaultAppName     = "trail"
	DefaultSource      = "trail"
	DefaultSourcetype  = "trail:audit"
	DefaultRegion      = "us-east-1"
)

// Limits on forwarder settings.
const (
	MaxBatchSize   = 10000
	MaxS3BatchSize = 100000
	maxNameLen     = 64
	maxTokenLen    = 4096
	maxURILen      = 2048
)

// defaultBatchSize is the batch size of each kind: webhooks send one event
// per request unless asked to batch; the others always batch.
var defaultBatchSize = map[string]int{
	trail.ForwarderWebhook: 1,
	trail.ForwarderSplunk:  100,
	trail.ForwarderSyslog:  100,
	trail.ForwarderS3:      MaxBatchSize,
}

// Prepare fills in f's defaults, a fresh webhook signing secret included,
// and checks every field. It returns an EINVALID *trail.Error that names
// each bad field, such as "method: must be POST, PUT or PATCH".
func Prepare(f *trail.Forwarder) error {
	setDefaults(f)
	var p trail.Problems
	add := func(field, problem string) { p.Add(-1, field, problem) }
	checkName(f.Name, add)
	if !slices.Contains(trail.ForwarderKinds, f.Kind) {
		add("kind", "must be webhook, splunk, syslog or s3")
		return p.Err()
	}
	checkURI(f.Kind, f.URI, add)
	checkSecrets(f, add)
	checkDurations(f, add)
	checkFilter(f, add)
	checkKindSettings(f, add)
	if f.Start != trail.StartNow && f.Start != trail.StartBeginning {
		add("start", "must be now or beginning")
	}
	return p.Err()
}

func setDefaults(f *trail.Forwarder) {
	f.Method = strings.ToUpper(f.Method)
	if f.Method == "" && f.Kind == trail.ForwarderWebhook {
		f.Method = "POST"
	}
	if f.Secret == "" && f.Kind == trail.ForwarderWebhook {
		f.Secret = trail.NewWebhookSecret()
	}
	if f.Kind == trail.ForwarderWebhook {
		setDuration(&f.SecretGrace, DefaultSecretGrace)
	}
	setDuration(&f.Timeout, DefaultTimeout)
	if f.Batch.Size == 0 {
		f.Batch.Size = defaultBatchSize[f.Kind]
	}
	if f.Kind == trail.ForwarderS3 {
		setDuration(&f.Batch.Wait, DefaultS3Window)
	}
	if f.Retry.MaxAttempts == 0 {
		f.Retry.MaxAttempts = DefaultMaxAttempts
	}
	setDuration(&f.Retry.MinBackoff, DefaultMinBackoff)
	setDuration(&f.Retry.MaxBackoff, max(DefaultMaxBackoff, f.Retry.MinBackoff.Std()))
	if f.Start == "" {
		f.Start = trail.StartNow
	}
	setKindDefaults(f)
}

func setKindDefaults(f *trail.Forwarder) {
	switch f.Kind {
	case trail.ForwarderSplunk:
		if f.Splunk == nil {
			f.Splunk = &trail.SplunkConfig{}
		}
		f.Splunk.Source = cmp(f.Splunk.Source, DefaultSource)
		f.Splunk.Sourcetype = cmp(f.Splunk.Sourcetype, DefaultSourcetype)
	case trail.ForwarderSyslog:
		if f.Syslog == nil {
			f.Syslog = &trail.SyslogConfig{}
		}
		f.Syslog.AppName = cmp(f.Syslog.AppName, DefaultAppName)
		if f.Syslog.Facility == nil {
			n := DefaultFacility
			f.Syslog.Facility = &n
		}
	case trail.ForwarderS3:
		if f.S3 != nil {
			f.S3.Region = cmp(f.S3.Region, DefaultRegion)
		}
	}
}

func setDuration(d *trail.Duration, def time.Duration) {
	if *d == 0 {
		*d = trail.Duration(def)
	}
}

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func checkName(name string, add func(string, string)) {
	ok := name != "" && len(name) <= maxNameLen && isNameChar(name[0], false)
	for i := 1; ok && i < len(name); i++ {
		ok = isNameChar(name[i], true)
	}
	if !ok {
		add("name", "required: 1 to 64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
}

func isNameChar(c byte, inner bool) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || inner && strings.IndexByte("._-", c) >= 0
}

func checkURI(kind, uri string, add func(string, string)) {
	u, err := url.Parse(uri)
	switch {
	case uri == "":
		add("uri", "required")
		return
	case len(uri) > maxURILen || err != nil || u.Host == "" || u.Opaque != "":
		add("uri", "must be an absolute URL such as "+uriExample[kind])
		return
	case u.User != nil:
		add("uri", "must not hold credentials: use token")
		return
	}
	switch kind {
	case trail.ForwarderSyslog:
		_, port, _ := net.SplitHostPort(u.Host)
		if u.Scheme != "tcp" && u.Scheme != "tls" || port == "" || strings.Trim(u.Path, "/") != "" {
			add("uri", "must be tcp://host:port or tls://host:port")
		}
	case trail.ForwarderS3:
		if u.Scheme != "http" && u.Scheme != "https" || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" {
			add("uri", "must be the endpoint of the S3 service, such as https://s3.us-east-1.amazonaws.com; the bucket goes in s3.bucket")
		}
	default:
		if u.Scheme != "http" && u.Scheme != "https" {
			add("uri", "must be an http or https URL such as "+uriExample[kind])
		}
	}
}

var uriExample = map[string]string{
	trail.ForwarderWebhook: "https://siem.example.com/audit",
	trail.ForwarderSplunk:  "https://splunk.example.com:8088",
	trail.ForwarderSyslog:  "tls://logs.example.com:6514",
	trail.ForwarderS3:      "https://s3.us-east-1.amazonaws.com",
}

func checkSecrets(f *trail.Forwarder, add func(string, string)) {
	switch {
	case len(f.Token) > maxTokenLen || hasControl(f.Token):
		add("token", "must be at most 4096 characters without control characters")
	case f.Token == "" && f.Kind == trail.ForwarderSplunk:
		add("token", "required: the HEC token")
	case f.Token != "" && (f.Kind == trail.ForwarderSyslog || f.Kind == trail.ForwarderS3):
		add("token", "only webhook and splunk forwarders take a token")
	}
	if f.Kind != trail.ForwarderWebhook {
		if f.Secret != "" {
			add("secret", "only webhook forwarders are signed")
		}
		if f.SecretGrace != 0 {
			add("secret_grace", "only webhook forwarders are signed")
		}
		if f.Method != "" {
			add("method", "only webhook forwarders take a method")
		}
		return
	}
	if n := secretLen(f.Secret); n < 24 || n > 64 {
		add("secret", `must be "whsec_" and 24 to 64 bytes in base64`)
	}
	if g := f.SecretGrace.Std(); g < time.Second || g > MaxSecretGrace {
		add("secret_grace", "must be from 1s to 720h")
	}
	if f.Method != "POST" && f.Method != "PUT" && f.Method != "PATCH" {
		add("method", "must be POST, PUT or PATCH")
	}
}

// secretLen returns the length of a Standard Webhooks secret's key, or -1
// when it is not one.
func secretLen(secret string) int {
	b64, ok := strings.CutPrefix(secret, "whsec_")
	key, err := base64.StdEncoding.DecodeString(b64)
	if !ok || err != nil {
		return -1
	}
	return len(key)
}

func checkDurations(f *trail.Forwarder, add func(string, string)) {
	between := func(field string, d trail.Duration, lo, hi time.Duration) {
		if d.Std() < lo || d.Std() > hi {
			add(field, fmt.Sprintf("must be from %v to %v", lo, hi))
		}
	}
	between("timeout", f.Timeout, time.Millisecond, 10*time.Minute)
	between("batch.wait", f.Batch.Wait, 0, time.Hour)
	between("retry.min_backoff", f.Retry.MinBackoff, time.Millisecond, time.Hour)
	between("retry.max_backoff", f.Retry.MaxBackoff, f.Retry.MinBackoff.Std(), 24*time.Hour)
	maxSize := MaxBatchSize
	if f.Kind == trail.ForwarderS3 {
		maxSize = MaxS3BatchSize
	}
	if f.Batch.Size < 1 || f.Batch.Size > maxSize {
		add("batch.size", fmt.Sprintf("must be from 1 to %d", maxSize))
	}
	if f.Retry.MaxAttempts < 1 || f.Retry.MaxAttempts > 1000 {
		add("retry.max_attempts", "must be from 1 to 1000")
	}
}

func checkFilter(f *trail.Forwarder, add func(string, string)) {
	for i, a := range f.Filter.Actions {
		if !validActionPattern(a) {
			add(fmt.Sprintf("filter.actions[%d]", i), "must be an action like user.created or a prefix like user.*")
		}
	}
	for i, t := range f.Filter.Tenants {
		field := fmt.Sprintf("filter.tenants[%d]", i)
		switch {
		case !trail.ValidTenant(t):
			add(field, "must be a tenant: 1 to 64 letters, digits, '.', '_' or '-'")
		case f.Tenant != "" && t != f.Tenant:
			add(field, "a tenant's forwarder sees only its own tenant")
		}
	}
}

// validActionPattern accepts what trail.ParseQuery accepts as an action
// filter: "*", an action, or an action prefix ending in ".*".
func validActionPattern(a string) bool {
	if a == "*" {
		return true
	}
	a = strings.TrimSuffix(a, ".*")
	if a == "" || len(a) > trail.MaxActionLen {
		return false
	}
	for _, w := range strings.Split(a, ".") {
		if w == "" || !('a' <= w[0] && w[0] <= 'z') || strings.Trim(w, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			return false
		}
	}
	return true
}

func checkKindSettings(f *trail.Forwarder, add func(string, string)) {
	only := func(field, kind string, set bool) {
		if set && f.Kind != kind {
			add(field, "only "+kind+" forwarders take "+field+" settings")
		}
	}
	only("splunk", trail.ForwarderSplunk, f.Splunk != nil)
	only("syslog", trail.ForwarderSyslog, f.Syslog != nil)
	only("s3", trail.ForwarderS3, f.S3 != nil)
	switch f.Kind {
	case trail.ForwarderSplunk:
		checkPrintable(add, "splunk.index", f.Splunk.Index, "splunk.source", f.Splunk.Source,
			"splunk.sourcetype", f.Splunk.Sourcetype, "splunk.host", f.Splunk.Host)
	case trail.ForwarderSyslog:
		checkSyslog(f, add)
	case trail.ForwarderS3:
		checkS3(f.S3, add)
	}
}

// checkPrintable checks pairs of field name and value.
func checkPrintable(add func(string, string), pairs ...string) {
	for i := 0; i+1 < len(pairs); i += 2 {
		if v := pairs[i+1]; len(v) > 256 || hasControl(v) {
			add(pairs[i], "must be at most 256 characters without control characters")
		}
	}
}

func checkSyslog(f *trail.Forwarder, add func(string, string)) {
	s := f.Syslog
	// RFC 5424 header fields are printable US-ASCII without spaces.
	if !syslogToken(s.Hostname, 255) {
		add("syslog.hostname", "must be at most 255 printable ASCII characters without spaces")
	}
	if !syslogToken(s.AppName, 48) || s.AppName == "" {
		add("syslog.app_name", "must be 1 to 48 printable ASCII characters without spaces")
	}
	if *s.Facility < 0 || *s.Facility > 23 {
		add("syslog.facility", "must be from 0 to 23")
	}
	tls := strings.HasPrefix(f.URI, "tls://")
	if s.CA != "" && (!tls || !x509.NewCertPool().AppendCertsFromPEM([]byte(s.CA))) {
		add("syslog.ca", "must be PEM certificates, for a tls:// uri")
	}
	if s.ServerName != "" && !tls {
		add("syslog.server_name", "only for a tls:// uri")
	}
}

func syslogToken(s string, maxLen int) bool {
	if len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 33 || s[i] > 126 {
			return false
		}
	}
	return true
}

func checkS3(s *trail.S3Config, add func(string, string)) {
	if s == nil {
		add("s3.bucket", "required")
		return
	}
	if !validBucket(s.Bucket) {
		add("s3.bucket", "must be a bucket name: 3 to 63 lower-case letters, digits, '.' or '-'")
	}
	if strings.HasPrefix(s.Prefix, "/") || len(s.Prefix) > 512 || hasControl(s.Prefix) {
		add("s3.prefix", "must be at most 512 characters, without a leading '/' or control characters")
	}
	if s.AccessKey == "" || s.SecretKey == "" {
		add("s3.access_key", "s3.access_key and s3.secret_key are required")
	}
	checkPrintable(add, "s3.region", s.Region, "s3.access_key", s.AccessKey, "s3.secret_key", s.SecretKey)
}

func validBucket(b string) bool {
	if len(b) < 3 || len(b) > 63 || strings.Trim(b, "abcdefghijklmnopqrstuvwxyz0123456789.-") != "" {
		return false
	}
	return b[0] != '.' && b[0] != '-' && b[len(b)-1] != '.' && b[len(b)-1] != '-'
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}
