package trail

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"slices"
	"strings"
	"time"
)

// API key scopes. ScopeAdmin grants every other scope as well.
const (
	ScopeEventsWrite = "events:write" // publish events
	ScopeEventsRead  = "events:read"  // read and export events
	ScopeAdmin       = "admin"        // keys and settings
)

// Scopes lists every scope, in the order they are documented.
var Scopes = []string{ScopeEventsWrite, ScopeEventsRead, ScopeAdmin}

// APIKey is a credential for the HTTP API. Its secret is shown once at
// creation; only a SHA-256 hash of it is stored, which is safe for secrets of
// 256 random bits.
type APIKey struct {
	ID string `json:"id"`
	// Name is a label chosen by whoever created the key.
	Name string `json:"name,omitempty"`
	// Tenant is the organization a tenant key belongs to; "" for platform
	// keys.
	Tenant string `json:"tenant,omitempty"`
	// Platform keys may write events for any tenant, and system events.
	Platform  bool      `json:"platform"`
	Scopes    []string  `json:"scopes"`
	CreatedAt time.Time `json:"created_at"`
	// ExpiresAt is zero for keys that do not expire.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// RevokedAt is zero until the key is revoked.
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	// Hash is the hex SHA-256 of the secret.
	Hash string `json:"-"`
}

// NewAPIKey makes a key with a fresh id and secret. The secret is returned
// once and never stored.
func NewAPIKey(name, tenant string, platform bool, scopes []string, expires, now time.Time) (*APIKey, string, error) {
	var p Problems
	switch {
	case platform && tenant != "":
		p.Add(-1, "tenant", "a platform key has no tenant")
	case !platform && !ValidTenant(tenant):
		p.Add(-1, "tenant", "required for a tenant key: 1 to 64 letters, digits, '.', '_' or '-'")
	}
	if len(scopes) == 0 {
		p.Add(-1, "scopes", "at least one of events:write, events:read, admin")
	}
	for _, s := range scopes {
		if !slices.Contains(Scopes, s) {
			p.Add(-1, "scopes", "unknown scope "+quote(s)+": use events:write, events:read or admin")
		}
	}
	if len(name) > 200 {
		p.Add(-1, "name", "longer than 200 characters")
	}
	if !expires.IsZero() && !expires.After(now) {
		p.Add(-1, "expires_at", "must be in the future")
	}
	if err := p.Err(); err != nil {
		return nil, "", err
	}
	id := "k_" + randomHex(10)
	secret := "trail_" + id + "_" + randomHex(32)
	k := &APIKey{
		ID: id, Name: name, Tenant: tenant, Platform: platform,
		Scopes: slices.Clone(scopes), CreatedAt: NormalTime(now),
		Hash: hashSecret(secret),
	}
	if !expires.IsZero() {
		k.ExpiresAt = NormalTime(expires)
	}
	return k, secret, nil
}

// KeyIDFromSecret returns the id embedded in a secret, so the key can be
// looked up before its hash is compared.
func KeyIDFromSecret(secret string) (string, bool) {
	rest, ok := strings.CutPrefix(secret, "trail_")
	i := strings.LastIndexByte(rest, '_')
	if !ok || i < 0 {
		return "", false
	}
	return rest[:i], true
}

// Authenticate reports whether secret belongs to k and k is usable at now:
// not revoked and not expired. The hash comparison takes constant time.
func (k *APIKey) Authenticate(secret string, now time.Time) bool {
	ok := subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(k.Hash)) == 1
	return ok && k.RevokedAt.IsZero() && (k.ExpiresAt.IsZero() || now.Before(k.ExpiresAt))
}

// HasScope reports whether k grants scope s. Admin grants every scope.
func (k *APIKey) HasScope(s string) bool {
	return slices.Contains(k.Scopes, s) || slices.Contains(k.Scopes, ScopeAdmin)
}

// ReadScope returns what k may read. A platform key reads every tenant, or
// only one when tenant is set; a tenant key reads its own tenant.
func (k *APIKey) ReadScope(tenant string) Scope {
	switch {
	case !k.Platform:
		return Scope{Tenant: k.Tenant}
	case tenant != "":
		return Scope{Tenant: tenant}
	default:
		return Scope{All: true}
	}
}

// WriteTenant resolves the tenant of an event that k writes with the tenant
// field set to requested. A tenant key writes to its own tenant only; a
// platform key writes to any tenant, or system events with none.
func (k *APIKey) WriteTenant(requested string) (string, bool) {
	if k.Platform {
		return requested, true
	}
	return k.Tenant, requested == "" || requested == k.Tenant
}

// Actor returns the actor recorded when k performs a sensitive action.
func (k *APIKey) Actor() Actor {
	return Actor{Type: ActorAPIKey, ID: k.ID, Name: k.Name}
}

func hashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func quote(s string) string { return `"` + s + `"` }
