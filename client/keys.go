package client

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/trailhq/trail"
)

// KeyRequest describes an API key to create. The calling key needs the
// admin scope; a tenant admin key creates keys of its own tenant only.
type KeyRequest struct {
	Name string `json:"name,omitempty"`
	// Tenant is the organization of a tenant key; empty with Platform.
	Tenant string `json:"tenant,omitempty"`
	// Platform makes a platform key, which may write and read any tenant.
	Platform bool `json:"platform,omitempty"`
	// Scopes are any of trail.ScopeEventsWrite, trail.ScopeEventsRead and
	// trail.ScopeAdmin.
	Scopes []string `json:"scopes"`
	// ExpiresAt is when the key stops working; zero for never.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// CreateKey creates an API key and returns it with its secret, which the
// server shows this once and never again.
func (c *Client) CreateKey(ctx context.Context, kr KeyRequest) (*trail.APIKey, string, error) {
	var out struct {
		trail.APIKey
		Secret string `json:"secret"`
	}
	if err := c.do(ctx, request{method: http.MethodPost, path: "/v1/keys", body: kr}, &out); err != nil {
		return nil, "", err
	}
	return &out.APIKey, out.Secret, nil
}

// Keys lists the API keys the calling key may manage, newest first.
func (c *Client) Keys(ctx context.Context) ([]*trail.APIKey, error) {
	var out struct {
		Keys []*trail.APIKey `json:"keys"`
	}
	err := c.do(ctx, request{method: http.MethodGet, path: "/v1/keys"}, &out)
	return out.Keys, err
}

// RevokeKey revokes the API key with id, which stops working at once, and
// returns it. Revoking a revoked key changes nothing.
func (c *Client) RevokeKey(ctx context.Context, id string) (*trail.APIKey, error) {
	var k trail.APIKey
	err := c.do(ctx, request{method: http.MethodDelete, path: "/v1/keys/" + url.PathEscape(id)}, &k)
	if err != nil {
		return nil, err
	}
	return &k, nil
}
