package trail

import (
	"context"
	"encoding/json"
	"strings"
	"time"
)

// Schema validation modes of a tenant: what ingest does with an event whose
// metadata does not follow its action's schema.
const (
	// ValidationOff accepts every valid event; schemas only document
	// actions. It is the default.
	ValidationOff = "off"
	// ValidationEnforce rejects an event of an action that has a schema
	// when the event does not match the version it names.
	ValidationEnforce = "enforce"
	// ValidationStrict is ValidationEnforce that also rejects events of
	// actions with no schema.
	ValidationStrict = "strict"
)

// ValidationModes lists every validation mode, in the order they are
// documented.
var ValidationModes = []string{ValidationOff, ValidationEnforce, ValidationStrict}

// MaxSchemaBytes bounds the JSON of one registered action schema.
const MaxSchemaBytes = 64 << 10

// ActionSchema is one version of the JSON Schemas that the events of an
// action follow. Versions are immutable: a change is stored as version N+1,
// and an event names the version it follows in its version field, so old
// events stay readable while an action's schema evolves.
type ActionSchema struct {
	// Tenant owns the schema line. "" is the platform line, which applies
	// to every tenant that has no line of its own for the action.
	Tenant string `json:"tenant"`
	Action string `json:"action"`
	// Version is assigned by the store: 1, 2, 3, ... per (Tenant, Action).
	Version int `json:"version"`
	// Metadata is the JSON Schema of the event's metadata object; nil
	// leaves metadata unchecked.
	Metadata json.RawMessage `json:"metadata,omitempty"`
	// Targets maps a target type to the JSON Schema of the metadata of the
	// event's targets of that type. Targets of other types are unchecked.
	Targets   map[string]json.RawMessage `json:"targets,omitempty"`
	CreatedAt time.Time                  `json:"created_at"`
	// CreatedBy is the id of the API key that registered the schema.
	CreatedBy string `json:"created_by,omitempty"`
}

// ActionInfo describes one action of GET /v1/actions: whether events of it
// were seen, and which schema versions apply to it.
type ActionInfo struct {
	Action string `json:"action"`
	// Seen is true when events of the action are stored.
	Seen bool `json:"seen"`
	// SchemaTenant is the owner of the schema line that applies: the
	// tenant itself, or "" for the platform line.
	SchemaTenant string `json:"schema_tenant"`
	// Versions lists the schema versions of the line that applies, oldest
	// first; empty when the action has no schema.
	Versions []int `json:"schema_versions"`
	// Latest is the newest schema version, 0 when there is none.
	Latest int `json:"latest_version"`
}

// SchemaStore stores action schemas and each tenant's validation mode.
type SchemaStore interface {
	// CreateActionSchema stores s as the next version of the line
	// (s.Tenant, s.Action) and sets s.Version. Two concurrent calls get
	// different versions.
	CreateActionSchema(ctx context.Context, s *ActionSchema) error
	// ActionSchemas returns tenant's own schemas of action, oldest version
	// first, or of every action (sorted by action, then version) when
	// action is "". It does not fall back to the platform line.
	ActionSchemas(ctx context.Context, tenant, action string) ([]*ActionSchema, error)
	// ValidationMode returns tenant's validation mode, ValidationOff when
	// it was never set.
	ValidationMode(ctx context.Context, tenant string) (string, error)
	// SetValidationMode sets tenant's validation mode.
	SetValidationMode(ctx context.Context, tenant, mode string, at time.Time) error
}

// CheckAction rejects a path segment that cannot be an action: the API's
// and the console's schema pages name actions in their paths.
func CheckAction(a string) error {
	ok := a != "" && len(a) <= MaxActionLen
	for _, word := range strings.Split(a, ".") {
		ok = ok && word != "" && 'a' <= word[0] && word[0] <= 'z' &&
			strings.Trim(word, "abcdefghijklmnopqrstuvwxyz0123456789_") == ""
	}
	if !ok {
		return Invalid("action", "must be lower-case words joined by dots, like user.created")
	}
	return nil
}
