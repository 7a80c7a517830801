package console

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/trailhq/trail"
)

// The filter form's pickers: the actor field's suggestions, read as the
// user types (console.js fills a datalist from GET /events/actors), the
// target type list, and on an entity's timeline the entity's actions.

// actorSuggestions is how many actors the picker offers at a time.
const actorSuggestions = 10

// actorOption is one suggestion of the actor picker: the value the
// actor_id field takes, and what the list shows beside it.
type actorOption struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

// handleActorOptions answers the actors of the viewer's log (or of the
// tenant an operator opened) whose name or id starts with prefix, as JSON.
func (s *Server) handleActorOptions(w http.ResponseWriter, r *http.Request, v *viewer) error {
	scope, tenant, rest, err := listScope(r, v)
	if err != nil {
		return err
	}
	if err := onlyParams(rest, "prefix"); err != nil {
		return err
	}
	q, err := trail.ParseActorQuery(rest.Get("prefix"), "")
	if err != nil {
		return err
	}
	q.Scope, q.Limit = scope, actorSuggestions
	actors, err := s.store.Actors(r.Context(), q)
	if err != nil {
		return err
	}
	if err := s.recordOperatorView(r, v, tenant, "actors"); err != nil {
		return err
	}
	opts := make([]actorOption, len(actors))
	for i, a := range actors {
		opts[i] = actorOption{Value: a.ID, Label: actorLabel(a)}
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(opts)
}

// actorLabel is how the picker shows an actor: its name and type, and
// the names it went by before.
func actorLabel(a *trail.ActorEntry) string {
	label := a.Type
	if a.Name != "" {
		label = a.Name + " · " + a.Type
	}
	if len(a.OtherNames) > 0 {
		label += " · was " + strings.Join(a.OtherNames, ", ")
	}
	return label
}

// onlyParams refuses parameters other than allowed, naming each.
func onlyParams(v map[string][]string, allowed ...string) error {
	var p trail.Problems
	for name, vals := range v {
		switch {
		case !slices.Contains(allowed, name):
			p.Add(-1, name, "unknown parameter")
		case len(vals) > 1:
			p.Add(-1, name, "given more than once")
		}
	}
	return p.Err()
}

// targetTypeOptions lists the target types the filter offers: the scope's,
// with the one the URL asks for even when no event has it, so that the
// form shows the filter in force.
func (s *Server) targetTypeOptions(r *http.Request, scope trail.Scope, current string) ([]string, error) {
	types, err := s.store.TargetTypes(r.Context(), scope)
	if err != nil {
		return nil, err
	}
	if current != "" && !slices.Contains(types, current) {
		types = append(types, current)
		slices.Sort(types)
	}
	return types, nil
}
