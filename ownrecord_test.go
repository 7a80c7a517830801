package trail_test

import (
	"testing"

	"github.com/trailhq/trail"
)

func TestOwnRecord(t *testing.T) {
	for _, tc := range []struct {
		actor, action string
		want          bool
	}{
		{trail.ActorAPIKey, "api_key.created", true},
		{trail.ActorAPIKey, "export.downloaded", true},
		{trail.ActorSystem, "settings.updated", true},
		{trail.ActorSystem, "retention.run", true},
		{trail.ActorUser, "login.failure", true},
		{trail.ActorUser, "logout", true},
		{trail.ActorAlert, "alert.fired", true},
		{trail.ActorSystem, "secrets.rotated", true},
		{trail.ActorUser, "document.shared", false},           // an application's action
		{"service", "api_key.created", false},                 // not an actor type Trail records
		{trail.ActorUser, "logout.everywhere", false},         // "logout" reserves itself only
		{trail.ActorUser, "user", false},                      // "user." reserves what is under it
		{trail.ActorAPIKey, "api_keys.created", false},        // another noun
		{trail.ActorSystem, "export.downloaded.twice", false}, // not a reserved name
		{trail.ActorWorkflow, "schema.registered", false},     // a workflow is the application's
		{trail.ActorExternalResource, "hold.created", false},  // so is an external resource
	} {
		e := &trail.Event{Action: tc.action, Actor: trail.Actor{Type: tc.actor, ID: "x"}}
		if got := trail.OwnRecord(e); got != tc.want {
			t.Errorf("OwnRecord(%s by %s) = %v, want %v", tc.action, tc.actor, got, tc.want)
		}
	}
}
