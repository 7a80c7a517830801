package trail

import "strings"

// reservedActions are the actions Trail records about itself (README,
// "Trail's own events"): a name ending in "." reserves every action under
// it.
var reservedActions = []string{
	"api_key.", "user.", "login.", "logout", "session.revoked", "export.downloaded",
	"oidc.", "mfa.", "forwarder.", "alert.fired", "alert_rule.", "schema.", "hold.",
	"retention.", "secrets.rotated", "settings.updated", "tenant.viewed_by_operator",
	"event.viewed", "entity.viewed", "events.searched",
}

// ReservedAction reports whether action is one Trail records about itself.
func ReservedAction(action string) bool {
	for _, r := range reservedActions {
		if action == r || strings.HasSuffix(r, ".") && strings.HasPrefix(action, r) {
			return true
		}
	}
	return false
}

// OwnRecord reports whether e looks like one of Trail's own records: a
// reserved action done by an actor of a type Trail records (a key, a
// console user, the system: nodes and the command line, or an alert).
// Earlier releases kept such records of operator activity in the system
// log; SortOperatorLog moves those to the operator log.
func OwnRecord(e *Event) bool {
	switch e.Actor.Type {
	case ActorAPIKey, ActorUser, ActorSystem, ActorAlert:
		return ReservedAction(e.Action)
	}
	return false
}
