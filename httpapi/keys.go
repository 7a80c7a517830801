package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/trailhq/trail"
)

// maxKeyRequestBytes bounds the body of POST /v1/keys.
const maxKeyRequestBytes = 64 << 10

// createKeyRequest is the body of POST /v1/keys.
type createKeyRequest struct {
	Name     string   `json:"name"`
	Tenant   string   `json:"tenant"`
	Platform bool     `json:"platform"`
	Scopes   []string `json:"scopes"`
	// ExpiresAt is an RFC 3339 time; empty for a key that does not expire.
	ExpiresAt string `json:"expires_at"`
}

// createdKey is the answer to POST /v1/keys: the only time the secret is
// shown.
type createdKey struct {
	*trail.APIKey
	Secret string `json:"secret"`
}

type keyList struct {
	Keys []*trail.APIKey `json:"keys"`
}

// handleCreateKey creates a key. A tenant admin key creates keys of its own
// tenant only; a platform admin key creates any key.
func (s *Server) handleCreateKey(w http.ResponseWriter, r *http.Request) error {
	var req createKeyRequest
	if err := readJSON(w, r, maxKeyRequestBytes, &req); err != nil {
		return err
	}
	k, secret, err := s.newKey(apiKey(r), &req)
	if err != nil {
		return err
	}
	if err := s.store.CreateKey(r.Context(), k); err != nil {
		return fmt.Errorf("create key: %w", err)
	}
	meta := map[string]any{"scopes": k.Scopes, "platform": k.Platform}
	if err := s.record(r, k.Tenant, "api_key.created", meta, keyTarget(k)); err != nil {
		// A key whose creation is not in the log must not work.
		ctx := context.WithoutCancel(r.Context())
		if rerr := s.store.RevokeKey(ctx, trail.Scope{All: true}, k.ID, s.now()); rerr != nil {
			s.logger.Error("revoke unrecorded key", "key", k.ID, "err", rerr)
		}
		return fmt.Errorf("record key creation: %w", err)
	}
	writeJSON(w, http.StatusCreated, createdKey{k, secret})
	return nil
}

// newKey checks req against what caller may grant and makes the key.
func (s *Server) newKey(caller *trail.APIKey, req *createKeyRequest) (*trail.APIKey, string, error) {
	if hasControl(req.Name) {
		return nil, "", trail.Invalid("name", "contains a control character")
	}
	if !caller.Platform {
		switch {
		case req.Platform:
			return nil, "", trail.Errorf(trail.EFORBIDDEN, "a tenant API key cannot create platform keys")
		case req.Tenant == "":
			req.Tenant = caller.Tenant
		case req.Tenant != caller.Tenant:
			return nil, "", trail.Invalid("tenant", fmt.Sprintf("this API key manages keys of tenant %q only", caller.Tenant))
		}
	}
	var expires time.Time
	if req.ExpiresAt != "" {
		t, err := time.Parse(time.RFC3339Nano, req.ExpiresAt)
		if err != nil {
			return nil, "", trail.Invalid("expires_at", "must be an RFC 3339 timestamp like 2026-11-23T12:00:00Z")
		}
		expires = t
	}
	return trail.NewAPIKey(req.Name, req.Tenant, req.Platform, req.Scopes, expires, s.now())
}

// handleListKeys lists the keys the caller manages, newest first.
func (s *Server) handleListKeys(w http.ResponseWriter, r *http.Request) error {
	keys, err := s.store.Keys(r.Context(), apiKey(r).ReadScope(""))
	if err != nil {
		return fmt.Errorf("list keys: %w", err)
	}
	if keys == nil {
		keys = []*trail.APIKey{}
	}
	writeJSON(w, http.StatusOK, keyList{keys})
	return nil
}

// handleRevokeKey revokes a key; it stops working at once. Revoking a
// revoked key changes nothing. The revocation is recorded before it is
// made, so that a failure in between leaves a duplicate record on retry,
// never a missing one.
func (s *Server) handleRevokeKey(w http.ResponseWriter, r *http.Request) error {
	caller := apiKey(r)
	scope := caller.ReadScope("")
	k, err := s.managedKey(r.Context(), scope, r.PathValue("id"))
	if err != nil {
		return err
	}
	if k.RevokedAt.IsZero() {
		if err := s.record(r, k.Tenant, "api_key.revoked", nil, keyTarget(k)); err != nil {
			return fmt.Errorf("record key revocation: %w", err)
		}
		now := trail.NormalTime(s.now())
		if err := s.store.RevokeKey(r.Context(), scope, k.ID, now); err != nil {
			return fmt.Errorf("revoke key: %w", err)
		}
		k.RevokedAt = now
	}
	writeJSON(w, http.StatusOK, k)
	return nil
}

// managedKey returns the key with id if scope may manage it; another
// tenant's key is "not found", so that its existence is not revealed.
func (s *Server) managedKey(ctx context.Context, scope trail.Scope, id string) (*trail.APIKey, error) {
	notFound := trail.Errorf(trail.ENOTFOUND, "API key not found")
	if !validKeyID(id) {
		return nil, notFound
	}
	k, err := s.store.Key(ctx, id)
	switch {
	case trail.ErrorCode(err) == trail.ENOTFOUND:
		return nil, notFound
	case err != nil:
		return nil, fmt.Errorf("get key: %w", err)
	case !scope.All && (k.Platform || k.Tenant != scope.Tenant):
		return nil, notFound
	}
	return k, nil
}

func keyTarget(k *trail.APIKey) trail.Target {
	return trail.Target{Type: trail.ActorAPIKey, ID: k.ID, Name: k.Name}
}

// validKeyID reports whether id could be a key id: short ASCII letters,
// digits and underscores. Anything else cannot exist, and some bytes (NUL,
// invalid UTF-8) would make a database reject the lookup itself.
func validKeyID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(isLowerAlnum(c) || 'A' <= c && c <= 'Z' || c == '_') {
			return false
		}
	}
	return true
}

func isLowerAlnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }
