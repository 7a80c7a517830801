package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/trailhq/trail"
)

// ActorLookup is a lookup in the directory of actors (GET /v1/actors).
type ActorLookup struct {
	// Prefix is the start of one of an actor's recent names (any case) or
	// of its id; empty lists every actor.
	Prefix string
	// Limit is how many actors to return, 1 to trail.MaxActorLimit; 0 for
	// the server's default (trail.DefaultActorLimit).
	Limit int
	// Tenant narrows a platform key's lookup to one tenant (and system
	// events).
	Tenant string
}

// Actors looks actors up by the start of a name or an id: first those
// found by name, by name, then those found by id.
func (c *Client) Actors(ctx context.Context, q ActorLookup) ([]*trail.ActorEntry, error) {
	v := url.Values{}
	if q.Prefix != "" {
		v.Set("prefix", q.Prefix)
	}
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Tenant != "" {
		v.Set("tenant", q.Tenant)
	}
	var out struct {
		Actors []*trail.ActorEntry `json:"actors"`
	}
	err := c.do(ctx, request{method: http.MethodGet, path: "/v1/actors", query: v}, &out)
	return out.Actors, err
}

// TargetTypes lists the target types of the key's events, sorted; tenant
// narrows a platform key's list to one tenant ("" for every tenant).
func (c *Client) TargetTypes(ctx context.Context, tenant string) ([]string, error) {
	v := url.Values{}
	if tenant != "" {
		v.Set("tenant", tenant)
	}
	var out struct {
		TargetTypes []string `json:"target_types"`
	}
	err := c.do(ctx, request{method: http.MethodGet, path: "/v1/target-types", query: v}, &out)
	return out.TargetTypes, err
}
