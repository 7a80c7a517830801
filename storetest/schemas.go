package storetest

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/trailhq/trail"
)

func newSchema(tenant, action, meta string) *trail.ActionSchema {
	return &trail.ActionSchema{Tenant: tenant, Action: action, Metadata: json.RawMessage(meta),
		Targets: map[string]json.RawMessage{"team": json.RawMessage(`{"type":"object"}`)}, CreatedAt: base, CreatedBy: "k_1"}
}

func testSchemas(t *testing.T, open func(t *testing.T) trail.Store) {
	ss := open(t)
	for _, s := range []*trail.ActionSchema{
		newSchema("acme", "user.created", `{"type":"object","required":["plan"]}`),
		newSchema("acme", "user.created", `{"type":"object"}`),
		newSchema("acme", "team.deleted", `{"type":"object"}`),
		newSchema("", "user.created", `{"type":"object"}`),
	} {
		if err := ss.CreateActionSchema(ctx(t), s); err != nil {
			t.Fatalf("CreateActionSchema: %v", err)
		}
	}
	t.Run("VersionsPerLine", func(t *testing.T) {
		got, err := ss.ActionSchemas(ctx(t), "acme", "user.created")
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, "versions", versions(got), []int{1, 2})
		var meta any
		if err := json.Unmarshal(got[0].Metadata, &meta); err != nil {
			t.Fatalf("metadata read back: %v", err)
		}
		wantEqual(t, "v1 metadata", meta, map[string]any{"type": "object", "required": []any{"plan"}})
		wantEqual(t, "created", got[0].CreatedAt, base)
		wantEqual(t, "target types", len(got[0].Targets), 1)
	})
	t.Run("AllActionsOfTenant", func(t *testing.T) {
		got, err := ss.ActionSchemas(ctx(t), "acme", "")
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, s := range got {
			keys = append(keys, fmt.Sprintf("%s@%d", s.Action, s.Version))
		}
		wantEqual(t, "schemas", keys, []string{"team.deleted@1", "user.created@1", "user.created@2"})
		platform, _ := ss.ActionSchemas(ctx(t), "", "")
		wantEqual(t, "platform versions", versions(platform), []int{1})
		other, _ := ss.ActionSchemas(ctx(t), "globex", "")
		wantEqual(t, "other tenant", len(other), 0)
	})
	t.Run("ConcurrentVersionsDiffer", func(t *testing.T) { testConcurrentSchemas(t, ss) })
	t.Run("ValidationMode", func(t *testing.T) {
		mode, err := ss.ValidationMode(ctx(t), "acme")
		wantEqual(t, "default mode", mode, trail.ValidationOff)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []string{trail.ValidationStrict, trail.ValidationEnforce} {
			if err := ss.SetValidationMode(ctx(t), "acme", m, base); err != nil {
				t.Fatal(err)
			}
		}
		mode, _ = ss.ValidationMode(ctx(t), "acme")
		wantEqual(t, "mode", mode, trail.ValidationEnforce)
		mode, _ = ss.ValidationMode(ctx(t), "globex")
		wantEqual(t, "other tenant's mode", mode, trail.ValidationOff)
	})
}

func testConcurrentSchemas(t *testing.T, ss trail.SchemaStore) {
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() { errs <- ss.CreateActionSchema(ctx(t), newSchema("acme", "race.won", `{}`)) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("CreateActionSchema: %v", err)
		}
	}
	got, err := ss.ActionSchemas(ctx(t), "acme", "race.won")
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "versions", versions(got), []int{1, 2, 3, 4, 5, 6, 7, 8})
}

func versions(ss []*trail.ActionSchema) []int {
	out := []int{}
	for _, s := range ss {
		out = append(out, s.Version)
	}
	return out
}
