package trail

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Actions that record single sign-on settings. Sign-ins through SSO are
// login.success and login.failure with metadata method "sso".
const (
	ActionOIDCConfigured = "oidc.configured"
	ActionOIDCUpdated    = "oidc.updated"
	ActionOIDCDisabled   = "oidc.disabled"
)

// NoPassword is the password hash of users created by single sign-on: no
// password matches it, so they can sign in through their provider only.
const NoPassword = "!sso"

// Limits of an SSO provider's settings.
const (
	maxSSODomains  = 50
	maxSSORoleMaps = 100
	maxSSOText     = 1024
)

// SSOProvider is a tenant's OpenID Connect provider: the console signs the
// tenant's users in through it.
type SSOProvider struct {
	Tenant   string `json:"tenant" yaml:"-"`
	Issuer   string `json:"issuer" yaml:"issuer"`
	ClientID string `json:"client_id" yaml:"client_id"`
	// ClientSecret is kept sealed by the store and never shown.
	ClientSecret string `json:"-" yaml:"client_secret"`
	// Domains are the email domains that may sign in; empty allows any
	// address the provider vouches for. They also find the tenant when a
	// user gives only an email address.
	Domains []string `json:"allowed_domains" yaml:"allowed_domains"`
	// RoleClaim names the ID token claim (a string or a list of strings)
	// that RoleMap maps to roles, such as "groups".
	RoleClaim string            `json:"role_claim,omitempty" yaml:"role_claim"`
	RoleMap   map[string]string `json:"role_mapping,omitempty" yaml:"role_mapping"`
	// DefaultRole is the role of a user whose claim maps to none; "" refuses
	// such users.
	DefaultRole string `json:"default_role" yaml:"default_role"`
	// CreateUsers creates a user at their first sign-in (just in time);
	// otherwise only existing users may sign in.
	CreateUsers bool `json:"create_users" yaml:"create_users"`
	// Required turns password sign-in off for the tenant, for every user.
	Required bool `json:"required" yaml:"required"`
	// ManagedBy is "api" (set through the API or console) or "config" (the
	// server's config file, which the API cannot change).
	ManagedBy string    `json:"managed_by" yaml:"-"`
	CreatedAt time.Time `json:"created_at,omitzero" yaml:"-"`
	UpdatedAt time.Time `json:"updated_at,omitzero" yaml:"-"`
}

// Validate checks p's settings, naming every field that is wrong. It
// normalizes the domains (lower case, sorted, no duplicates).
func (p *SSOProvider) Validate() error {
	var pr Problems
	if !ValidTenant(p.Tenant) {
		pr.Add(-1, "tenant", "required: 1 to 64 letters, digits, '.', '_' or '-'")
	}
	if msg := issuerProblem(p.Issuer); msg != "" {
		pr.Add(-1, "issuer", msg)
	}
	if p.ClientID == "" || len(p.ClientID) > maxSSOText || !printable(p.ClientID) {
		pr.Add(-1, "client_id", "required: up to 1024 printable characters")
	}
	if p.ClientSecret == "" || len(p.ClientSecret) > maxSSOText || !printable(p.ClientSecret) {
		pr.Add(-1, "client_secret", "required: up to 1024 printable characters")
	}
	p.Domains = normalizeDomains(p.Domains, &pr)
	p.validateRoles(&pr)
	return pr.Err()
}

func (p *SSOProvider) validateRoles(pr *Problems) {
	if p.DefaultRole != "" && !slices.Contains(Roles, p.DefaultRole) {
		pr.Add(-1, "default_role", "must be owner, admin, member or empty (no access)")
	}
	if len(p.RoleMap) > 0 && p.RoleClaim == "" {
		pr.Add(-1, "role_claim", "required with role_mapping: the claim whose values are mapped, such as groups")
	}
	if len(p.RoleClaim) > 128 || !printable(p.RoleClaim) {
		pr.Add(-1, "role_claim", "at most 128 printable characters")
	}
	if len(p.RoleMap) > maxSSORoleMaps {
		pr.Add(-1, "role_mapping", fmt.Sprintf("at most %d entries", maxSSORoleMaps))
	}
	for _, k := range slices.Sorted(maps.Keys(p.RoleMap)) {
		if k == "" || len(k) > 256 || !printable(k) {
			pr.Add(-1, "role_mapping", fmt.Sprintf("%q: a claim value of 1 to 256 printable characters", k))
		}
		if !slices.Contains(Roles, p.RoleMap[k]) {
			pr.Add(-1, "role_mapping."+k, "must be owner, admin or member")
		}
	}
}

// issuerProblem says what is wrong with an issuer URL: it must be https
// (http only on the loopback interface, for development), with no query
// or fragment.
func issuerProblem(s string) string {
	u, err := url.Parse(s)
	switch {
	case s == "" || len(s) > maxSSOText:
		return "required: the provider's issuer URL, such as https://login.example.com/realms/acme"
	case err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return "must be an absolute URL with no user, query or fragment"
	case u.Scheme == "https":
		return ""
	case u.Scheme == "http" && isLoopbackHost(u.Hostname()):
		return ""
	}
	return "must be an https URL (http only for localhost)"
}

func isLoopbackHost(h string) bool {
	return h == "localhost" || h == "::1" || strings.HasPrefix(h, "127.")
}

func normalizeDomains(in []string, pr *Problems) []string {
	if len(in) > maxSSODomains {
		pr.Add(-1, "allowed_domains", fmt.Sprintf("at most %d domains", maxSSODomains))
		return in
	}
	out := []string{}
	for i, d := range in {
		d = strings.ToLower(strings.TrimSpace(d))
		if !ValidEmail("a@"+d) || strings.Contains(d, "@") || !strings.Contains(d, ".") {
			pr.Add(-1, fmt.Sprintf("allowed_domains[%d]", i), "must be a domain name such as example.com")
			continue
		}
		out = append(out, d)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// EmailDomain returns the lower-cased domain of an address, "" if it has
// none.
func EmailDomain(email string) string {
	i := strings.LastIndexByte(email, '@')
	if i < 0 {
		return ""
	}
	return strings.ToLower(email[i+1:])
}

// DomainAllowed reports whether email's domain may sign in.
func (p *SSOProvider) DomainAllowed(email string) bool {
	return len(p.Domains) == 0 || slices.Contains(p.Domains, EmailDomain(email))
}

// RoleFor returns the role that claims give a user: the most powerful role
// that a value of RoleClaim maps to, else DefaultRole. "" means no access.
func (p *SSOProvider) RoleFor(claims map[string]any) string {
	var values []string
	switch v := claims[p.RoleClaim].(type) {
	case string:
		values = []string{v}
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				values = append(values, s)
			}
		}
	}
	for _, role := range Roles { // most powerful first
		for _, v := range values {
			if p.RoleClaim != "" && p.RoleMap[v] == role {
				return role
			}
		}
	}
	return p.DefaultRole
}

// Redacted returns p without its client secret.
func (p *SSOProvider) Redacted() *SSOProvider {
	c := *p
	c.ClientSecret = ""
	return &c
}

// SSOLogin is a sign-in through a provider that has started and not yet
// come back: what the callback needs to finish it. The browser holds the
// binding token in a cookie; the store keeps only hashes of it and of the
// state, and hands a login out once.
type SSOLogin struct {
	// StateHash is the SHA-256 of the state parameter.
	StateHash string
	// BindingHash is the SHA-256 of the browser's cookie.
	BindingHash string
	Tenant      string
	Nonce       string
	// Verifier is the PKCE code verifier.
	Verifier  string
	Next      string
	ExpiresAt time.Time
}

// SSOStore stores tenants' SSO providers and pending SSO sign-ins.
type SSOStore interface {
	// SSOProvider returns tenant's provider (with its secret), or
	// ENOTFOUND.
	SSOProvider(ctx context.Context, tenant string) (*SSOProvider, error)
	// SSOProvidersForDomain lists the providers that allow domain.
	SSOProvidersForDomain(ctx context.Context, domain string) ([]*SSOProvider, error)
	// SetSSOProvider stores p, replacing the tenant's provider, and reports
	// whether it is new. It keeps CreatedAt of a replaced provider.
	SetSSOProvider(ctx context.Context, p *SSOProvider) (created bool, err error)
	// DeleteSSOProvider deletes tenant's provider; ENOTFOUND if it has none.
	DeleteSSOProvider(ctx context.Context, tenant string) error
	// CreateSSOLogin stores l, deleting logins that expired before now.
	CreateSSOLogin(ctx context.Context, l *SSOLogin, now time.Time) error
	// TakeSSOLogin deletes and returns the login whose state hashes to
	// stateHash; ENOTFOUND when there is none or it expired before now.
	TakeSSOLogin(ctx context.Context, stateHash string, now time.Time) (*SSOLogin, error)
}

// SSOProviders finds tenants' providers: the one the config file gives a
// tenant, else the tenant's own, set through the API or console. The
// config file's cannot be changed but there.
type SSOProviders struct {
	Store SSOStore
	// Config are the providers of the server's config file, one a tenant.
	Config []*SSOProvider
}

// For returns tenant's provider, or ENOTFOUND.
func (s SSOProviders) For(ctx context.Context, tenant string) (*SSOProvider, error) {
	if c := s.config(tenant); c != nil {
		return c, nil
	}
	return s.Store.SSOProvider(ctx, tenant)
}

func (s SSOProviders) config(tenant string) *SSOProvider {
	for _, c := range s.Config {
		if c.Tenant == tenant {
			return c
		}
	}
	return nil
}

// ForDomain lists the tenants whose provider allows domain.
func (s SSOProviders) ForDomain(ctx context.Context, domain string) ([]string, error) {
	ps, err := s.Store.SSOProvidersForDomain(ctx, domain)
	if err != nil {
		return nil, err
	}
	var tenants []string
	for _, p := range ps {
		if s.config(p.Tenant) == nil {
			tenants = append(tenants, p.Tenant)
		}
	}
	for _, c := range s.Config {
		if slices.Contains(c.Domains, domain) {
			tenants = append(tenants, c.Tenant)
		}
	}
	slices.Sort(tenants)
	return tenants, nil
}

// Prepare readies p to replace old, the tenant's provider (nil when it has
// none): an empty client secret keeps old's. It validates p and returns
// the action to record, oidc.configured or oidc.updated. A provider of the
// config file cannot be replaced (ECONFLICT).
func (s SSOProviders) Prepare(ctx context.Context, p *SSOProvider, now time.Time) (string, error) {
	old, err := s.For(ctx, p.Tenant)
	switch {
	case ErrorCode(err) == ENOTFOUND:
		old = nil
	case err != nil:
		return "", err
	case old.ManagedBy == ManagedByConfig:
		return "", Errorf(ECONFLICT, "the single sign-on provider of %s is set in the server's config file; change it there", p.Tenant)
	}
	action := ActionOIDCConfigured
	if old != nil {
		action = ActionOIDCUpdated
		if p.ClientSecret == "" {
			p.ClientSecret = old.ClientSecret
		}
	}
	p.ManagedBy, p.UpdatedAt = ManagedByAPI, NormalTime(now)
	return action, p.Validate()
}

// Deletable checks that tenant's provider may be deleted and returns it.
func (s SSOProviders) Deletable(ctx context.Context, tenant string) (*SSOProvider, error) {
	p, err := s.For(ctx, tenant)
	if err == nil && p.ManagedBy == ManagedByConfig {
		return nil, Errorf(ECONFLICT, "the single sign-on provider of %s is set in the server's config file; remove it there", tenant)
	}
	return p, err
}
