package schema

import (
	"context"
	"fmt"
	"slices"

	"github.com/trailhq/trail"
)

// Register checks that s holds valid JSON Schemas and stores it as the next
// version of its line, setting s.Version. Invalid schemas are EINVALID and
// change nothing.
func Register(ctx context.Context, store trail.SchemaStore, s *trail.ActionSchema) error {
	if s.Metadata == nil && len(s.Targets) == 0 {
		return trail.Invalid("metadata", `required: a JSON Schema for the event's metadata, or "targets"`)
	}
	if _, err := Compile(s); err != nil {
		return err
	}
	if err := store.CreateActionSchema(ctx, s); err != nil {
		return fmt.Errorf("store schema: %w", err)
	}
	return nil
}

// Actions lists the actions visible in scope, those seen in events and
// those with a schema, with the versions of the schema line that applies
// to each: the tenant's own line, else the platform line. A reader without
// a tenant (scope.All) sees the platform lines.
func Actions(ctx context.Context, events trail.EventStore, schemas trail.SchemaStore, scope trail.Scope) ([]trail.ActionInfo, error) {
	seen, err := events.Actions(ctx, scope)
	if err != nil {
		return nil, fmt.Errorf("list actions: %w", err)
	}
	lines := map[string][]*trail.ActionSchema{}
	owners := map[string]string{}
	tenants := []string{trail.SystemTenant}
	if !scope.All && scope.Tenant != trail.SystemTenant {
		tenants = append(tenants, scope.Tenant) // later tenants replace earlier lines
	}
	for _, t := range tenants {
		all, err := schemas.ActionSchemas(ctx, t, "")
		if err != nil {
			return nil, fmt.Errorf("list schemas: %w", err)
		}
		byAction := map[string][]*trail.ActionSchema{}
		for _, s := range all {
			byAction[s.Action] = append(byAction[s.Action], s)
		}
		for a, line := range byAction {
			lines[a], owners[a] = line, t
		}
	}
	names := slices.Clone(seen)
	for a := range lines {
		names = append(names, a)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	out := make([]trail.ActionInfo, 0, len(names))
	for _, a := range names {
		_, isSeen := slices.BinarySearch(seen, a)
		info := trail.ActionInfo{Action: a, Seen: isSeen, SchemaTenant: owners[a], Versions: []int{}}
		for _, s := range lines[a] {
			info.Versions = append(info.Versions, s.Version)
			info.Latest = max(info.Latest, s.Version)
		}
		out = append(out, info)
	}
	return out, nil
}
