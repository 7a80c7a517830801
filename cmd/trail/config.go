package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/console"
	"github.com/trailhq/trail/forward"
	"gopkg.in/yaml.v3"
)

// Config is the configuration of `trail serve`. Every setting has a flag
// (--addr), an environment variable (TRAIL_ADDR) and a YAML key (addr): the
// flag name with dashes, upper-cased with TRAIL_ in front, or with
// underscores. Flags win over the environment, the environment over the
// file, and the file over the defaults.
type Config struct {
	// Addr is the HOST:PORT the HTTP API listens on; port 0 picks a free
	// port, which serve logs.
	Addr string `yaml:"addr"`
	// Data is the folder of the SQLite database (trail.db).
	Data string `yaml:"data"`
	// Store is a postgres:// URL to keep events in PostgreSQL instead of
	// SQLite, so that several nodes can share one database; empty for the
	// embedded SQLite store in Data.
	Store string `yaml:"store"`
	// SearchIndex keeps SQLite's full-text index beside trail.db
	// (trail.db.search); without it a search (q=) checks every event the
	// other filters select: exact, and slow over many events.
	SearchIndex bool `yaml:"search_index"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level"`
	// LogFormat is text or json.
	LogFormat string `yaml:"log_format"`
	// TrustProxyHeaders takes client IPs from X-Forwarded-For; enable it
	// only behind a reverse proxy that sets it.
	TrustProxyHeaders bool `yaml:"trust_proxy_headers"`
	// ShutdownTimeout bounds how long shutdown waits for in-flight
	// requests.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// CommitMaxEvents is the most events one group commit writes.
	CommitMaxEvents int `yaml:"commit_max_events"`
	// OTLPAddr is the HOST:PORT of the OTLP/HTTP logs receiver (POST
	// /v1/logs); empty turns that port off. OTLP logs are also taken at
	// /v1/otlp/logs of Addr.
	OTLPAddr string `yaml:"otlp_addr"`
	// RetentionInterval is how often the retention job runs.
	RetentionInterval time.Duration `yaml:"retention_interval"`
	// LogRetention is how long execution logs are kept, apart from the
	// events' per-tenant retention.
	LogRetention time.Duration `yaml:"log_retention"`
	// LedgerOrigin names this deployment in checkpoint origins
	// ("audit.example.com/acme"); empty means "trail.local".
	LedgerOrigin string `yaml:"ledger_origin"`
	// LedgerKey is the checkpoint signing key file; empty means
	// ledger.key in Data. Nodes sharing one PostgreSQL share one key.
	LedgerKey string `yaml:"ledger_key"`
	// SecretsKey is the file of the key that encrypts the secrets kept in
	// the store (forwarder tokens, webhook secrets); empty means
	// secrets.key beside the ledger key. Nodes sharing one PostgreSQL
	// share one file.
	SecretsKey string `yaml:"secrets_key"`
	// AuditReads says which reads of the audit log are recorded as data
	// access events (event.viewed, entity.viewed, events.searched): off,
	// console (the web console's) or all (the API's too).
	AuditReads string `yaml:"audit_reads"`
	// ConsoleSecureCookies marks the web console's cookies Secure; set it
	// whenever the console is reached over HTTPS.
	ConsoleSecureCookies bool `yaml:"console_secure_cookies"`
	// SessionIdleTimeout ends a console session unused this long;
	// SessionMaxAge ends it this long after sign-in, however active.
	SessionIdleTimeout time.Duration `yaml:"session_idle_timeout"`
	SessionMaxAge      time.Duration `yaml:"session_max_age"`
	// ReadTimeout bounds reading one request, body included; WriteTimeout
	// writing one response. Exports and the live tail stream past
	// WriteTimeout, with a deadline per write. MaxConns caps the open
	// connections of each listener (0: no cap).
	ReadTimeout  time.Duration `yaml:"read_timeout"`
	WriteTimeout time.Duration `yaml:"write_timeout"`
	MaxConns     int           `yaml:"max_conns"`
	// MetricsAddr serves GET /metrics on its own HOST:PORT. MetricsToken
	// serves it on Addr too, to requests with "Authorization: Bearer
	// <token>". With neither, metrics are not served.
	MetricsAddr  string `yaml:"metrics_addr"`
	MetricsToken string `yaml:"metrics_token"`
	// TLSCert and TLSKey are PEM files; with both set every listener
	// speaks TLS (HTTP/2 too), the files are re-read when they change, and
	// console cookies are Secure.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// ForwardAllowNetworks lists, comma-separated, the CIDRs that tenants'
	// forwarders and alert webhooks may reach although they are not public
	// (loopback, private, link-local, ...); empty allows none.
	ForwardAllowNetworks networkList `yaml:"forward_allow_networks"`
	// Forwarders are the operator's forwarders, from the forwarders:
	// section of the YAML file only (docs/forwarders.md).
	Forwarders []trail.Forwarder `yaml:"forwarders"`
	// File is the config file the settings were read from (--config or
	// TRAIL_CONFIG); empty when there was none. It names the file in the
	// audit events of the changes the file makes.
	File string `yaml:"-"`
	// SSO is the operator's single sign-on provider for the console, from
	// the sso: section of the YAML file only (docs/identity.md).
	SSO *SSOConfig `yaml:"sso"`
	// PublicURL is the console's address as browsers reach it, such as
	// https://trail.example.com; single sign-on redirects back to
	// PublicURL/login/sso/callback. Empty takes the request's host.
	PublicURL string `yaml:"public_url"`
}

// SSOConfig is the sso: section of the config file: one OpenID Connect
// provider for the tenants it lists, which their admins cannot change.
type SSOConfig struct {
	trail.SSOProvider `yaml:",inline"`
	// Tenants are the tenants that sign in through this provider.
	Tenants []string `yaml:"tenants"`
	// ClientSecretFile holds the client secret, instead of client_secret.
	ClientSecretFile string `yaml:"client_secret_file"`
}

// Providers returns one provider a tenant, reading the client secret file.
func (c *SSOConfig) Providers() ([]*trail.SSOProvider, error) {
	if c == nil {
		return nil, nil
	}
	secret := c.ClientSecret
	if c.ClientSecretFile != "" {
		b, err := os.ReadFile(c.ClientSecretFile)
		if err != nil {
			return nil, fmt.Errorf("config file: sso.client_secret_file: %w", err)
		}
		secret = strings.TrimSpace(string(b))
	}
	var ps []*trail.SSOProvider
	for _, t := range c.Tenants {
		p := c.SSOProvider
		p.Tenant, p.ClientSecret, p.ManagedBy = t, secret, trail.ManagedByConfig
		ps = append(ps, &p)
	}
	return ps, nil
}

// validate checks the sso: section, one error per problem.
func (c *SSOConfig) validate() []error {
	if c == nil {
		return nil
	}
	if len(c.Tenants) == 0 {
		return []error{errors.New("config file: sso.tenants: required: the tenants that sign in through this provider")}
	}
	if c.ClientSecretFile != "" && c.ClientSecret != "" {
		return []error{errors.New("config file: sso: set client_secret or client_secret_file, not both")}
	}
	ps, err := c.Providers()
	if err != nil {
		return []error{err}
	}
	var errs []error
	for i, p := range ps {
		var te *trail.Error
		if err := p.Validate(); errors.As(err, &te) {
			for _, d := range te.Details {
				field := d.Field
				if field == "tenant" {
					field = fmt.Sprintf("tenants[%d]", i)
				}
				errs = append(errs, fmt.Errorf("config file: sso.%s: %s", field, d.Problem))
			}
			return errs // every tenant shares the other settings
		}
	}
	return nil
}

// DefaultConfig returns the settings used when nothing is configured: a
// local service that works with no config at all.
func DefaultConfig() Config {
	return Config{
		Addr:              "127.0.0.1:8080",
		Data:              "./trail-data",
		SearchIndex:       true,
		LogLevel:          "info",
		LogFormat:         "text",
		ShutdownTimeout:   30 * time.Second,
		CommitMaxEvents:   5000,
		RetentionInterval: time.Hour,
		LogRetention:      30 * 24 * time.Hour,
		ReadTimeout:       time.Minute,
		WriteTimeout:      2 * time.Minute,
		MaxConns:          4096,
		AuditReads:        trail.AuditReadsConsole,

		SessionIdleTimeout: console.DefaultIdleTimeout,
		SessionMaxAge:      console.DefaultMaxAge,
	}
}

// bind registers a flag for every setting of c on fs, with c's values as the
// defaults. The flag names are the single list of settings that the
// environment and the YAML keys follow.
func (c *Config) bind(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address `HOST:PORT`")
	fs.StringVar(&c.Data, "data", c.Data, "data `folder` (holds trail.db)")
	fs.StringVar(&c.Store, "store", c.Store,
		"PostgreSQL `URL` (postgres://user:pass@host/db) shared by several nodes; empty for SQLite in --data")
	fs.BoolVar(&c.SearchIndex, "search-index", c.SearchIndex,
		"keep SQLite's full-text index in trail.db.search (false: q= checks every event, exact and slow)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log `level`: debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log `format`: text or json")
	fs.BoolVar(&c.TrustProxyHeaders, "trust-proxy-headers", c.TrustProxyHeaders,
		"take client IPs from X-Forwarded-For (only behind a proxy)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout,
		"how long shutdown waits for in-flight requests")
	fs.IntVar(&c.CommitMaxEvents, "commit-max-events", c.CommitMaxEvents, "most events in one group commit")
	fs.StringVar(&c.OTLPAddr, "otlp-addr", c.OTLPAddr,
		"OTLP/HTTP logs receiver `HOST:PORT`, like 127.0.0.1:4318 (empty: off; /v1/otlp/logs works on --addr anyway)")
	fs.DurationVar(&c.RetentionInterval, "retention-interval", c.RetentionInterval, "how often the retention job runs")
	fs.DurationVar(&c.LogRetention, "log-retention", c.LogRetention, "how long execution logs are kept")
	fs.StringVar(&c.LedgerOrigin, "ledger-origin", c.LedgerOrigin,
		"this deployment's `name` in ledger checkpoints, like audit.example.com (default trail.local)")
	fs.StringVar(&c.LedgerKey, "ledger-key", c.LedgerKey,
		"checkpoint signing key `file`, created at first start (default ledger.key in --data)")
	fs.StringVar(&c.SecretsKey, "secrets-key", c.SecretsKey,
		"key `file` encrypting stored secrets, created at first start (default secrets.key beside the ledger key)")
	fs.StringVar(&c.AuditReads, "audit-reads", c.AuditReads,
		"which reads of the audit log to record as events: off, console (the web console's) or all (the API's too)")
	fs.BoolVar(&c.ConsoleSecureCookies, "console-secure-cookies", c.ConsoleSecureCookies,
		"mark web console cookies Secure (set it when served over HTTPS)")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL,
		"the console's `URL` as browsers reach it, like https://trail.example.com (single sign-on redirects to URL/login/sso/callback; default: the request's host)")
	fs.DurationVar(&c.SessionIdleTimeout, "session-idle-timeout", c.SessionIdleTimeout,
		"end a web console session unused this long")
	fs.DurationVar(&c.SessionMaxAge, "session-max-age", c.SessionMaxAge,
		"end a web console session this long after sign-in, however active")
	c.bindHTTP(fs)
}

// bindHTTP registers the settings of the listeners: timeouts, the
// connection cap, metrics and TLS.
func (c *Config) bindHTTP(fs *flag.FlagSet) {
	fs.DurationVar(&c.ReadTimeout, "read-timeout", c.ReadTimeout,
		"longest time to read one request, body included (slow clients are cut off)")
	fs.DurationVar(&c.WriteTimeout, "write-timeout", c.WriteTimeout,
		"longest time to write one response (exports and the live tail stream on)")
	fs.IntVar(&c.MaxConns, "max-conns", c.MaxConns, "most open connections per listener (0: no cap)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", c.MetricsAddr,
		"serve GET /metrics on its own `HOST:PORT`, like 127.0.0.1:9090 (empty: off)")
	fs.StringVar(&c.MetricsToken, "metrics-token", c.MetricsToken,
		"serve GET /metrics on --addr too, to requests with Authorization: Bearer `TOKEN`")
	fs.StringVar(&c.TLSCert, "tls-cert", c.TLSCert,
		"TLS certificate chain PEM `file`; with --tls-key every listener speaks HTTPS, reloaded when it changes")
	fs.StringVar(&c.TLSKey, "tls-key", c.TLSKey, "TLS private key PEM `file` of --tls-cert")
	fs.Var(&c.ForwardAllowNetworks, "forward-allow-networks",
		"comma-separated `CIDRs` that tenants' forwarders and alert webhooks may reach though not public, like 10.20.0.0/16")
}

// Setting describes one configuration setting, for help and docs.
type Setting struct {
	Flag    string // without the dashes: "addr"
	Env     string // "TRAIL_ADDR"
	YAML    string // "addr"
	Default string
	Usage   string
}

// Settings lists every setting of Config, in flag order.
func Settings() []Setting {
	def := DefaultConfig()
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	def.bind(fs)
	var out []Setting
	fs.VisitAll(func(f *flag.Flag) {
		_, usage := flag.UnquoteUsage(f)
		out = append(out, Setting{Flag: f.Name, Env: EnvName(f.Name),
			YAML: strings.ReplaceAll(f.Name, "-", "_"), Default: f.DefValue, Usage: usage})
	})
	return out
}

// EnvName returns the environment variable of the setting with flag name.
func EnvName(flagName string) string {
	return "TRAIL_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Validate reports every invalid setting at once, each naming its flag.
func (c *Config) Validate() error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("--%s (%s): %s", name, EnvName(name), fmt.Sprintf(format, args...)))
	}
	if _, port, err := net.SplitHostPort(c.Addr); err != nil {
		bad("addr", "%q is not HOST:PORT, like 127.0.0.1:8080 or :8080", c.Addr)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		bad("addr", "port %q is not a number from 0 to 65535", port)
	}
	if c.OTLPAddr != "" {
		if _, _, err := net.SplitHostPort(c.OTLPAddr); err != nil {
			bad("otlp-addr", "%q is not HOST:PORT, like 127.0.0.1:4318", c.OTLPAddr)
		}
	}
	if c.RetentionInterval < time.Second {
		bad("retention-interval", "must be a duration of at least 1s, like 1h")
	}
	if c.SessionIdleTimeout < time.Minute {
		bad("session-idle-timeout", "must be a duration of at least 1m, like 12h")
	}
	if c.SessionMaxAge < c.SessionIdleTimeout || c.SessionMaxAge < time.Minute {
		bad("session-max-age", "must be a duration of at least 1m and at least --session-idle-timeout, like 168h")
	}
	if c.LogRetention < time.Hour {
		bad("log-retention", "must be a duration of at least 1h, like 720h")
	}
	if strings.TrimSpace(c.Data) == "" {
		bad("data", "required: the folder that holds trail.db")
	}
	if c.Store != "" && !strings.HasPrefix(c.Store, "postgres://") && !strings.HasPrefix(c.Store, "postgresql://") {
		bad("store", "must be a postgres:// URL like postgres://trail:secret@db.internal:5432/trail, or empty for SQLite")
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		bad("log-level", "%q is not debug, info, warn or error", c.LogLevel)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("log-format", "%q is not text or json", c.LogFormat)
	}
	if c.ShutdownTimeout <= 0 {
		bad("shutdown-timeout", "must be a positive duration like 30s")
	}
	if c.CommitMaxEvents < 1 {
		bad("commit-max-events", "must be at least 1")
	}
	switch c.AuditReads {
	case trail.AuditReadsOff, trail.AuditReadsConsole, trail.AuditReadsAll:
	default:
		bad("audit-reads", "%q is not off, console or all", c.AuditReads)
	}
	c.validateHTTP(bad)
	if _, err := forward.ParseNetworks(string(c.ForwardAllowNetworks)); err != nil {
		bad("forward-allow-networks", "%v", err)
	}
	errs = append(errs, validateForwarders(c.Forwarders)...)
	errs = append(errs, c.SSO.validate()...)
	if u, err := url.Parse(c.PublicURL); c.PublicURL != "" && (err != nil || (u.Scheme != "https" && u.Scheme != "http") ||
		u.Host == "" || u.RawQuery != "" || strings.TrimSuffix(u.Path, "/") != "") {
		bad("public-url", "%q is not a URL like https://trail.example.com (no path)", c.PublicURL)
	}
	return errors.Join(errs...)
}

// validateHTTP checks the listener settings, reporting through bad.
func (c *Config) validateHTTP(bad func(name, format string, args ...any)) {
	if c.ReadTimeout < time.Second {
		bad("read-timeout", "must be a duration of at least 1s, like 1m")
	}
	if c.WriteTimeout < time.Second {
		bad("write-timeout", "must be a duration of at least 1s, like 2m")
	}
	if c.MaxConns < 0 {
		bad("max-conns", "must be 0 (no cap) or more")
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			bad("metrics-addr", "%q is not HOST:PORT, like 127.0.0.1:9090", c.MetricsAddr)
		}
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		bad("metrics-token", "must be at least 16 characters; make one with: openssl rand -hex 32")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		bad("tls-cert", "--tls-cert and --tls-key go together: set both or neither")
	}
}

const serveUsage = `Usage: trail serve [flags]

Runs Trail. Every flag is also an environment variable (--log-level is
TRAIL_LOG_LEVEL) and a key of the YAML file of --config (log_level). Flags
win over the environment, the environment over the file.

Flags:
`

// LoadConfig builds the configuration of `trail serve` from the defaults,
// the YAML file (--config or TRAIL_CONFIG), the TRAIL_* environment read
// through getenv, and the flags in args, then validates it. Usage and flag
// errors are written to usage.
func LoadConfig(args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	fs := flag.NewFlagSet("trail serve", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.Usage = func() {
		fmt.Fprint(usage, serveUsage)
		fs.PrintDefaults()
	}
	cf := addConfigFlags(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return Config{}, err
	}
	if len(pos) > 0 {
		return Config{}, usageErrorf("unexpected argument %q: settings are flags, like --addr 127.0.0.1:8080", pos[0])
	}
	return cf.load(getenv)
}

// configFlags are the Config settings and --config, registered on the flag
// set of a command next to the command's own flags.
type configFlags struct {
	fs   *flag.FlagSet
	path *string
	// settings names the serve settings registered, so that a command's
	// usage can leave them out (configFlags.usage).
	settings map[string]bool
}

// addConfigFlags registers every setting and --config on fs.
func addConfigFlags(fs *flag.FlagSet) *configFlags {
	scratch := DefaultConfig()
	scratch.bind(fs)
	settings := map[string]bool{}
	for _, st := range Settings() {
		settings[st.Flag] = true
	}
	return &configFlags{fs: fs, path: fs.String("config", "", "YAML config `file` (env TRAIL_CONFIG)"), settings: settings}
}

// load builds the Config once fs is parsed: defaults, then the file, then
// the environment, then the flags given on the command line.
func (cf *configFlags) load(getenv func(string) string) (Config, error) {
	path := *cf.path
	if path == "" {
		path = getenv("TRAIL_CONFIG")
	}
	cfg := DefaultConfig()
	if path != "" {
		if err := cfg.loadFile(path); err != nil {
			return Config{}, err
		}
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		cfg.File = path
	}
	if err := cfg.applyEnv(getenv); err != nil {
		return Config{}, err
	}
	// Apply only the flags given on the command line, so that a flag's
	// default never hides the file or the environment.
	target := flag.NewFlagSet("", flag.ContinueOnError)
	cfg.bind(target)
	cf.fs.Visit(func(f *flag.Flag) {
		if target.Lookup(f.Name) != nil {
			target.Set(f.Name, f.Value.String()) // parsed once already, cannot fail
		}
	})
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// loadFile reads YAML settings from path; unknown keys are errors, so a
// typo is never silently ignored. Each value is parsed as its flag parses
// it, so an error names the setting and what it must look like, never a
// Go type.
func (c *Config) loadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("config file %s: %s", path, cleanYAMLError(err))
	}
	if len(doc.Content) == 0 {
		return nil // an empty file
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("config file %s: line %d: must be a mapping of settings, like addr: 127.0.0.1:8080", path, root.Line)
	}
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	c.bind(fs)
	var errs []error
	for i := 0; i+1 < len(root.Content); i += 2 {
		if k := root.Content[i].Value; k == "forwarders" || k == "sso" {
			if err := c.decodeSections(b, k); err != nil {
				errs = append(errs, fmt.Errorf("config file %s: %w", path, err))
			}
			continue
		}
		if err := c.setFromYAML(fs, root.Content[i], root.Content[i+1]); err != nil {
			errs = append(errs, fmt.Errorf("config file %s: line %d: %w", path, root.Content[i].Line, err))
		}
	}
	return errors.Join(errs...)
}

// setFromYAML applies one key of the config file.
func (c *Config) setFromYAML(fs *flag.FlagSet, key, value *yaml.Node) error {
	name := key.Value
	f := fs.Lookup(strings.ReplaceAll(name, "_", "-"))
	if f == nil || strings.Contains(name, "-") {
		return fmt.Errorf("unknown setting %q%s", name, suggestSetting(name))
	}
	if u, ok := f.Value.(yaml.Unmarshaler); ok && value.Kind == yaml.SequenceNode {
		return u.UnmarshalYAML(value) // a setting that also takes a list
	}
	if value.Kind != yaml.ScalarNode {
		return fmt.Errorf("%s: must be a single value, not a list or mapping", name)
	}
	if err := fs.Set(f.Name, value.Value); err != nil {
		return fmt.Errorf("%s: %q %s", name, value.Value, wantKind(f))
	}
	return nil
}

// decodeSections decodes the forwarders: list and the sso: section of
// file b strictly, from the whole file so that errors carry the file's
// line numbers; key names the section asked for.
func (c *Config) decodeSections(b []byte, key string) error {
	var file struct {
		Forwarders []trail.Forwarder `yaml:"forwarders"`
		SSO        *SSOConfig        `yaml:"sso"`
		Settings   map[string]any    `yaml:",inline"` // checked by setFromYAML
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %s", key, cleanYAMLError(err))
	}
	c.Forwarders, c.SSO = file.Forwarders, file.SSO
	return nil
}

var (
	yamlFieldRE = regexp.MustCompile(`field (\S+) not found in type \S+`)
	yamlTypeRE  = regexp.MustCompile("cannot unmarshal !!\\w+ `([^`]*)` into \\S+")
)

// cleanYAMLError rewrites the YAML library's Go type names into words.
func cleanYAMLError(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n  ")
	msg = strings.TrimPrefix(msg, "trail: invalid: ")
	msg = yamlFieldRE.ReplaceAllString(msg, "unknown key $1")
	return yamlTypeRE.ReplaceAllString(msg, "$1 is not a valid value here")
}

// suggestSetting returns ` (did you mean "x"?)` for the setting nearest to
// name, or the list of settings when none is near.
func suggestSetting(name string) string {
	best, bestD := "", 3
	var all []string
	for _, s := range Settings() {
		all = append(all, s.YAML)
		if d := editDistance(name, s.YAML); d < bestD {
			best, bestD = s.YAML, d
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %s?)", best)
	}
	return " (settings: " + strings.Join(all, ", ") + ", forwarders)"
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// applyEnv sets every setting whose TRAIL_* variable is not empty.
func (c *Config) applyEnv(getenv func(string) string) error {
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	c.bind(fs)
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		name := EnvName(f.Name)
		if v := getenv(name); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %s", name, v, wantKind(f)))
			}
		}
	})
	return errors.Join(errs...)
}

// wantKind says what a flag's value must look like, for error messages.
func wantKind(f *flag.Flag) string {
	switch f.Value.(flag.Getter).Get().(type) {
	case bool:
		return "must be true or false"
	case time.Duration:
		return "must be a duration like 30s or 5m"
	case int:
		return "must be an integer"
	default:
		return "invalid value"
	}
}

func parseLevel(s string) (slog.Level, error) {
	switch s {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("unknown log level %q", s)
}

// NewLogger returns the logger that c asks for, writing to w.
func (c *Config) NewLogger(w io.Writer) *slog.Logger {
	level, _ := parseLevel(c.LogLevel)
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
