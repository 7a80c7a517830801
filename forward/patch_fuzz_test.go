package forward_test

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/forward"
)

// FuzzPatch checks forwarder config patches as the API applies them:
// trail.CheckMembers first (no repeated or unknown member), then
// forward.Patch. A refusal is always a 400 naming a field; an accepted
// patch never changes what Trail owns, and applying it twice changes
// nothing more (RFC 7396 patches are idempotent), but for a rotated secret.
func FuzzPatch(f *testing.F) {
	for _, s := range []string{
		`{"uri":"https://b.example.com","token":null,"filter":{"tenants":["acme"]}}`,
		`{"secret":null}`, `{"name":"other"}`, `{"uri":"https://a.example.com","uri":"https://b.example.com"}`,
		`{"URI":"https://b.example.com"}`, `{"filter":{"action":["x"]}}`, `{"retry":{"max_attempts":3}}`,
		`{"timeout":"5s","batch":{"size":10,"wait":"1s"}}`, `{"splunk":{"index":"main"}}`, `[1]`, `null`, `{`,
		`{"filter":{"actions":["user.*"],"actions":[]}}`, `{"method":"PUT"}`, `{"tenant":"globex"}`,
	} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	fwd := &trail.Forwarder{ID: "0195509a-0000-7000-8000-000000000001", Tenant: "acme", Name: "siem",
		Kind: trail.ForwarderWebhook, URI: "https://a.example.com", Token: "tok-1", ManagedBy: trail.ManagedByAPI,
		Filter: trail.ForwarderFilter{Actions: []string{"user.*"}}, CreatedAt: now, UpdatedAt: now}
	if err := forward.Prepare(fwd); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, patch []byte) {
		if field, problem := trail.CheckMembers(patch, reflect.TypeFor[trail.Forwarder]()); problem != "" {
			if field == "" {
				t.Fatalf("CheckMembers(%s): problem %q names no field", patch, problem)
			}
			return
		}
		next, err := forward.Patch(fwd, patch, now)
		if err != nil {
			if trail.ErrorCode(err) != trail.EINVALID {
				t.Fatalf("Patch(%s): %v, want invalid", patch, err)
			}
			return
		}
		if next.ID != fwd.ID || next.Tenant != fwd.Tenant || next.Name != fwd.Name || next.Kind != fwd.Kind ||
			next.ManagedBy != fwd.ManagedBy || !next.CreatedAt.Equal(fwd.CreatedAt) {
			t.Fatalf("Patch(%s) changed what Trail owns: %+v", patch, next)
		}
		again, err := forward.Patch(next, patch, now)
		if err != nil {
			t.Fatalf("Patch(%s) applied twice: %v", patch, err)
		}
		changed := forward.Changed(next, again)
		if changed = slices.DeleteFunc(changed, func(s string) bool { return s == "secret" }); len(changed) > 0 {
			t.Fatalf("Patch(%s) applied twice changed %v", patch, changed)
		}
	})
}
