package ledger_test

import (
	"context"
	"errors"
	"testing"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/ledger"
)

// failingTiles is a store whose tile reads fail, as a server behind a
// broken proxy does.
type failingTiles struct{ ledger.Source }

func (failingTiles) LedgerTiles(context.Context, string, []trail.LedgerTileID) ([]*trail.LedgerTile, error) {
	return nil, errors.New("GET /v1/ledger/tiles: 502 Bad Gateway")
}

// TestVerifyReadErrorIsNoEvidence: a source that cannot be read makes
// VerifyLog fail with a *ReadError, and reports no problem: in particular
// not "history was rewritten" for a kept checkpoint it could not check.
func TestVerifyReadErrorIsNoEvidence(t *testing.T) {
	e, _ := sealed(t)
	kept, err := e.db.LedgerHead(ctxT(t), "acme")
	if err != nil {
		t.Fatal(err)
	}
	appendEvents(t, e.db, "acme", 300)
	e.sequence(t)
	v := e.led.Verifier()
	v.Source, v.Since = failingTiles{e.db}, [][]byte{kept.Checkpoint}
	r, err := v.VerifyLog(ctxT(t), "acme")
	var re *ledger.ReadError
	if !errors.As(err, &re) {
		t.Fatalf("error %v, want a *ledger.ReadError", err)
	}
	if len(r.Problems) != 0 {
		t.Fatalf("a read error reported as problems: %v", r.Problems)
	}
}

// TestVerifyMissingTiles: tiles deleted from the database are the
// ledger's records being wrong, a problem, not a failure to read.
func TestVerifyMissingTiles(t *testing.T) {
	e, raw := sealed(t)
	exec(t, raw, `DELETE FROM ledger_tiles WHERE tenant = 'acme' AND level = 0`)
	r, err := e.led.Verifier().VerifyLog(ctxT(t), "acme")
	if err != nil {
		t.Fatalf("VerifyLog: %v, want a report", err)
	}
	wantFirst(t, r, -1, ledger.KindLedger, "lacks tree node")
}

// TestVerifySinceLogGone: a log whose checkpoint was deleted is still
// verified against a kept checkpoint of it, and shows as rolled back.
func TestVerifySinceLogGone(t *testing.T) {
	e, raw := sealed(t)
	kept, err := e.db.LedgerHead(ctxT(t), "acme")
	if err != nil {
		t.Fatal(err)
	}
	exec(t, raw, `DELETE FROM ledger_heads WHERE tenant = 'acme'`)
	v := e.led.Verifier()
	v.Since = [][]byte{kept.Checkpoint}
	reports, err := v.VerifyAll(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reports {
		if r.Tenant == "acme" {
			if r.Origin != "trail.test/acme" {
				t.Errorf("origin %q", r.Origin)
			}
			wantFirst(t, r, -1, ledger.KindLedger, "rolled back")
			return
		}
	}
	t.Fatalf("acme was not verified: %+v", reports)
}
