package client_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/trailhq/trail/client"
)

func TestActorsAndTargetTypes(t *testing.T) {
	ctx := context.Background()
	c := newServer(t, nil).client(t)
	publishN(t, c, 2)
	actors, err := c.Actors(ctx, client.ActorLookup{Prefix: "ad", Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(actors) != 1 || actors[0].ID != "u_1" || actors[0].Name != "Ada" {
		t.Errorf("actors = %+v, want u_1 named Ada", actors)
	}
	types, err := c.TargetTypes(ctx, "")
	if err != nil || !slices.Equal(types, []string{"document"}) {
		t.Errorf("target types = %v, %v; want [document]", types, err)
	}
	_, err = c.Actors(ctx, client.ActorLookup{Limit: 1000})
	var apiErr *client.Error
	if !errors.As(err, &apiErr) || apiErr.Status != 400 || apiErr.Details[0].Field != "limit" {
		t.Errorf("a limit of 1000: err = %v, want a 400 naming limit", err)
	}
}
