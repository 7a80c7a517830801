package httpapi_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/ledger"
)

// TestOperatorLog: what Trail records about a platform key's actions goes
// to the operator log, which a tenant key never reads (list, get, export,
// actions, ledger) and a platform key does; it has its own checkpoint and
// verifies. Events a platform key posts without a tenant stay system
// events, visible to every tenant. No event may name the operator log.
func TestOperatorLog(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newLedgerEnv(t, s)
		platform := e.newKey(t, "", true, trail.ScopeAdmin, trail.ScopeEventsRead, trail.ScopeEventsWrite)
		acme := e.newKey(t, "acme", false, trail.ScopeEventsRead, trail.ScopeEventsWrite)
		e.do(t, "POST", "/v1/keys", platform, `{"name":"ops robot","platform":true,"scopes":["admin"]}`).want(t, 201)
		sys := e.ingest(t, platform, batch(event("maintenance.scheduled")))[0]
		e.ingest(t, acme, batch(event("user.created")))

		created := e.list(t, platform, "action=api_key.created").Events
		if len(created) != 1 || created[0].Tenant != trail.OperatorTenant {
			t.Fatalf("a platform key's creation recorded as %+v, want one event in the operator log", created)
		}
		opID := created[0].ID

		t.Run("TenantKey", func(t *testing.T) {
			got := e.list(t, acme, "limit=1000").Events
			if !slices.Contains(ids(got), sys) || slices.Contains(ids(got), opID) {
				t.Fatalf("acme lists %v: want the system event %s and not the operator's %s", ids(got), sys, opID)
			}
			if n := len(e.list(t, acme, "tenant="+trail.OperatorTenant).Events); n != 0 {
				t.Fatalf("acme asking for the operator log lists %d events", n)
			}
			e.do(t, "GET", "/v1/events/"+opID, acme, "").wantError(t, 404, trail.ENOTFOUND, "")
			e.do(t, "GET", "/v1/events/"+opID+"/proof", acme, "").wantError(t, 404, trail.ENOTFOUND, "")
			e.do(t, "GET", "/v1/ledger/checkpoint?log="+trail.OperatorTenant, acme, "").wantError(t, 404, trail.ENOTFOUND, "")
			e.do(t, "GET", "/v1/ledger/tiles?tile=0/0&log="+trail.OperatorTenant, acme, "").wantError(t, 404, trail.ENOTFOUND, "")
			if body := string(e.do(t, "GET", "/v1/events/export?format=jsonl", acme, "").want(t, 200).body); strings.Contains(body, opID) ||
				!strings.Contains(body, sys) {
				t.Fatalf("acme's export holds the operator's event, or lacks the system one:\n%s", body)
			}
			if body := string(e.do(t, "GET", "/v1/actions", acme, "").want(t, 200).body); strings.Contains(body, "api_key.created") {
				t.Fatalf("acme's actions list the operator's: %s", body)
			}
			if body := string(e.do(t, "GET", "/v1/ledger/logs", acme, "").want(t, 200).body); strings.Contains(body, trail.OperatorTenant) {
				t.Fatalf("acme's ledger logs name the operator log: %s", body)
			}
		})
		t.Run("PlatformKey", func(t *testing.T) {
			got := e.list(t, platform, "tenant="+trail.OperatorTenant).Events
			if !slices.Contains(ids(got), opID) || !slices.Contains(ids(got), sys) {
				t.Fatalf("the operator log with system events lists %v", ids(got))
			}
			e.do(t, "GET", "/v1/events/"+opID+"/proof", platform, "").want(t, 200)
			cp := openCheckpoint(t, e, platform, "log="+trail.OperatorTenant)
			if cp.Origin != "trail.test/"+trail.OperatorTenant || cp.Size < 1 {
				t.Fatalf("operator log checkpoint %s size %d", cp.Origin, cp.Size)
			}
			if sysCP := openCheckpoint(t, e, platform, "log=~system"); sysCP.Size != 1 {
				t.Fatalf("the system log holds %d events, want only the one posted", sysCP.Size)
			}
			v, _ := ledger.ParseVerifier(strings.TrimSpace(string(e.do(t, "GET", "/v1/ledger/pubkey", "", "").body)))
			ver := &ledger.Verifier{Source: &ledger.Remote{URL: e.srv.URL, APIKey: platform}, Key: v, Origin: "trail.test"}
			reports, err := ver.VerifyAll(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			verified := false
			for _, r := range reports {
				if !r.OK() {
					t.Errorf("log %+v does not verify", r)
				}
				verified = verified || r.Tenant == trail.OperatorTenant
			}
			if !verified {
				t.Fatalf("verify did not check the operator log: %+v", reports)
			}
		})
		t.Run("ErrTenantOperator", func(t *testing.T) {
			for _, key := range []string{platform, acme} {
				e.do(t, "POST", "/v1/events", key, event("a.b", "tenant", `"@operator"`)).wantError(t, 400, trail.EINVALID, "tenant")
			}
			acmeAdmin := e.newKey(t, "acme", false, trail.ScopeAdmin)
			e.do(t, "PUT", "/v1/retention", acmeAdmin, `{"tenant":"@operator","days":30}`).wantError(t, 400, trail.EINVALID, "tenant")
		})
		t.Run("OwnRetention", func(t *testing.T) {
			e.do(t, "PUT", "/v1/retention", platform, `{"tenant":"@operator","days":400}`).want(t, 200)
			p := decode[trail.RetentionPolicy](t, e.do(t, "GET", "/v1/retention?tenant=@operator", platform, "").want(t, 200))
			if p.Days != 400 || p.Tenant != trail.OperatorTenant {
				t.Fatalf("the operator log's retention %+v", p)
			}
		})
	})
}
