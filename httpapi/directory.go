package httpapi

import (
	"net/http"

	"github.com/trailhq/trail"
)

// The directory of actors and target types: what pickers and
// autocompletion offer (GET /v1/actors, GET /v1/target-types).

// actorList is the body of GET /v1/actors.
type actorList struct {
	Actors []*trail.ActorEntry `json:"actors"`
}

// targetTypeList is the body of GET /v1/target-types.
type targetTypeList struct {
	TargetTypes []string `json:"target_types"`
}

// handleListActors looks the scope's actors up by the start of a name or
// an id.
func (s *Server) handleListActors(w http.ResponseWriter, r *http.Request) error {
	v := query(r)
	q, err := trail.ParseActorQuery(v.Get("prefix"), v.Get("limit"))
	if err != nil {
		return err
	}
	scope, visible, err := readScope(apiKey(r), v.Get("tenant"))
	if err != nil {
		return err
	}
	actors := []*trail.ActorEntry{}
	if visible {
		q.Scope = scope
		if actors, err = s.store.Actors(r.Context(), q); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, actorList{actors})
	return nil
}

// handleListTargetTypes lists the scope's target types.
func (s *Server) handleListTargetTypes(w http.ResponseWriter, r *http.Request) error {
	scope, visible, err := readScope(apiKey(r), query(r).Get("tenant"))
	if err != nil {
		return err
	}
	types := []string{}
	if visible {
		if types, err = s.store.TargetTypes(r.Context(), scope); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, targetTypeList{types})
	return nil
}
