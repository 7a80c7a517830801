package httpapi_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/httpapi"
	"github.com/trailhq/trail/internal/teststore"
	"github.com/trailhq/trail/ledger"
)

// TestOperatorLogSort: a store from before the operator log holds Trail's
// own records of operator activity in the system log, sealed there. After
// the upgrade the sequencer moves them, and only them, to the operator log:
// tenants stop seeing them, the system log records each move, and trail
// verify checks every moved seq against its copy with a platform key,
// counts it with a tenant's key, and reports a copy that was changed.
func TestOperatorLogSort(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		key, err := ledger.LoadOrCreateKey(filepath.Join(t.TempDir(), ledger.KeyFile), "trail.test")
		if err != nil {
			t.Fatal(err)
		}
		at := time.Now().Add(-time.Hour)
		own := func(action, actorType string) *trail.Event {
			e := trail.NewSystemEvent("", action, trail.Actor{Type: actorType, ID: "ops", Name: "ops robot"}, trail.Context{}, at)
			e.Tenant = trail.SystemTenant // where an older Trail recorded it
			return e
		}
		keyMade, settings := own("api_key.created", trail.ActorAPIKey), own("settings.updated", trail.ActorSystem)
		posted := own("maintenance.scheduled", trail.ActorSystem) // a platform key's system event
		tenantOwn := own("api_key.created", trail.ActorAPIKey)
		tenantOwn.Tenant = "acme"
		old := []*trail.Event{keyMade, posted, settings, tenantOwn}
		if err := s.AppendBatches(t.Context(), []*trail.Batch{{Events: old}}); err != nil {
			t.Fatal(err)
		}
		sequence(t, s.(ledger.Store), key) // sealed by the older release
		// The upgrade's migration: what is stored now was stored before it.
		teststore.Exec(t, s, `INSERT INTO operator_sort (one, before_pos, next_seq) SELECT 1, next_pos, 0 FROM stream_pos`)

		led := sequence(t, s.(ledger.Store), key) // the upgraded release's sequencer
		e := newEnv(t, s, func(c *httpapi.Config) { c.Ledger = led })
		platform := e.newKey(t, "", true, trail.ScopeEventsRead, trail.ScopeEventsWrite)
		acme := e.newKey(t, "acme", false, trail.ScopeEventsRead)
		// A system event posted after the upgrade stays, whatever its name.
		later := e.ingest(t, platform, batch(event("api_key.created")))[0]
		sequence(t, s.(ledger.Store), key)

		if got := ids(e.list(t, acme, "limit=1000").Events); slices.Contains(got, keyMade.ID) || slices.Contains(got, settings.ID) ||
			!slices.Contains(got, posted.ID) || !slices.Contains(got, tenantOwn.ID) || !slices.Contains(got, later) {
			t.Fatalf("acme lists %v: want %s, %s and %s, and neither %s nor %s",
				got, posted.ID, tenantOwn.ID, later, keyMade.ID, settings.ID)
		}
		opLog := e.list(t, platform, "tenant=@operator&limit=1000").Events
		for _, id := range []string{keyMade.ID, settings.ID} {
			i := slices.IndexFunc(opLog, func(ev *trail.Event) bool { return ev.ID == id })
			if i < 0 || opLog[i].Tenant != trail.OperatorTenant {
				t.Fatalf("the operator log holds %v, want %s moved there", ids(opLog), id)
			}
		}
		moves := decode[struct {
			Moved []struct {
				Seq   int64  `json:"seq"`
				ToLog string `json:"to_log"`
				ToSeq int64  `json:"to_seq"`
			} `json:"moved"`
		}](t, e.do(t, "GET", "/v1/ledger/moved?log=~system", platform, "").want(t, 200))
		if len(moves.Moved) != 2 || moves.Moved[0].Seq != 0 || moves.Moved[1].Seq != 2 || moves.Moved[0].ToLog != "@operator" {
			t.Fatalf("moves %+v, want system seqs 0 and 2 moved to @operator", moves.Moved)
		}

		vkey := strings.TrimSpace(string(e.do(t, "GET", "/v1/ledger/pubkey", "", "").body))
		system := verifySystemLog(t, e, platform, vkey)
		if !system.OK() || system.Moved != 2 || system.Checked != 2 {
			t.Errorf("platform key: system log %s %+v, want 2 verified in place and 2 moved, no problem", system.Summary(), system.Problems)
		}
		if tenant := verifySystemLog(t, e, acme, vkey); !tenant.OK() || tenant.MovedUnread != 2 || tenant.Moved != 0 {
			t.Errorf("tenant key: system log %s %+v, want 2 moved and unread, no problem", tenant.Summary(), tenant.Problems)
		}

		// A moved event changed at its destination is reported where it
		// was sealed.
		teststore.Exec(t, s, `UPDATE events SET data = replace(data, 'ops robot', 'someone') WHERE tenant = '@operator' AND seq = ?`,
			moves.Moved[1].ToSeq)
		system = verifySystemLog(t, e, platform, vkey)
		if len(system.Problems) == 0 || system.Problems[0].Seq != 2 || system.Problems[0].Kind != ledger.KindModified {
			t.Errorf("after changing the moved copy: %s %+v, want seq 2 modified", system.Summary(), system.Problems)
		}
	})
}

// sequence runs a sequencer with key over s until nothing is left to do.
func sequence(t *testing.T, s ledger.Store, key *ledger.Key) *ledger.Ledger {
	t.Helper()
	led, err := ledger.New(s, ledger.Config{Key: key, Origin: "trail.test"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for {
		n, err := led.Step(ctx)
		if err != nil {
			t.Fatalf("sequencer step: %v", err)
		}
		if n == 0 {
			return led
		}
	}
}

// verifySystemLog verifies the system log through the API with secret.
func verifySystemLog(t *testing.T, e *env, secret, vkey string) *ledger.Report {
	t.Helper()
	v, err := ledger.ParseVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	ver := &ledger.Verifier{Source: &ledger.Remote{URL: e.srv.URL, APIKey: secret}, Key: v, Origin: "trail.test"}
	r, err := ver.VerifyLog(t.Context(), trail.SystemTenant)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
