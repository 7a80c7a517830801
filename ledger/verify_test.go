package ledger_test

import (
	"database/sql"
	"encoding/json"
	"strings"
	"testing"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/ledger"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// sealed returns an env whose logs "acme" (40 events) and "other" (5) are
// integrated and checkpointed, and a raw connection to its database file:
// the database administrator's view.
func sealed(t *testing.T) (*env, *sql.DB) {
	t.Helper()
	e := newEnv(t, ledger.Config{})
	appendEvents(t, e.db, "acme", 40)
	appendEvents(t, e.db, "other", 5)
	e.sequence(t)
	raw, err := sql.Open("sqlite3", e.db.Path())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return e, raw
}

func exec(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// verify verifies tenant's log and returns its report.
func (e *env) verify(t *testing.T, tenant string) *ledger.Report {
	t.Helper()
	r, err := e.led.Verifier().VerifyLog(ctxT(t), tenant)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// wantFirst checks that the first problem of r is kind at seq, and that
// its detail mentions every word of details.
func wantFirst(t *testing.T, r *ledger.Report, seq int64, kind string, details ...string) {
	t.Helper()
	if r.OK() || len(r.Problems) == 0 {
		t.Fatalf("tampering not detected: %s", r.Summary())
	}
	p := r.Problems[0]
	if p.Seq != seq || p.Kind != kind {
		t.Fatalf("first problem %q, want seq %d: %s", p, seq, kind)
	}
	for _, d := range details {
		if !strings.Contains(p.Detail, d) {
			t.Errorf("first problem %q does not mention %q", p, d)
		}
	}
}

func eventID(t *testing.T, db *sql.DB, seq int) string {
	t.Helper()
	var id string
	if err := db.QueryRow("SELECT id FROM events WHERE tenant = 'acme' AND seq = ?", seq).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestVerifyIntact(t *testing.T) {
	e, _ := sealed(t)
	appendEvents(t, e.db, "acme", 3) // stored, not sealed yet
	reports, err := e.led.Verifier().VerifyAll(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(reports) != 2 {
		t.Fatalf("%d reports, want 2 (acme, other)", len(reports))
	}
	for _, r := range reports {
		if !r.OK() {
			t.Errorf("intact log %q: %v", r.Tenant, r.Problems)
		}
	}
	if got, want := reports[0].Checked, int64(40); got != want {
		t.Errorf("acme: %d checked, want %d", got, want)
	}
	if got, want := reports[0].Pending, int64(3); got != want {
		t.Errorf("acme: %d pending, want %d", got, want)
	}
}

// TestVerifyTampering edits the database the way an administrator could,
// and checks that each edit is detected and named at the right seq.
func TestVerifyTampering(t *testing.T) {
	t.Run("ModifiedAction", func(t *testing.T) {
		e, raw := sealed(t)
		id := eventID(t, raw, 5)
		exec(t, raw, `UPDATE events SET action = 'user.deleted', data = json_set(data, '$.action', 'user.deleted')
			WHERE tenant = 'acme' AND seq = 5`)
		wantFirst(t, e.verify(t, "acme"), 5, ledger.KindModified, id)
	})
	t.Run("ModifiedActionColumnOnly", func(t *testing.T) {
		e, raw := sealed(t)
		exec(t, raw, `UPDATE events SET action = 'user.deleted' WHERE tenant = 'acme' AND seq = 6`)
		wantFirst(t, e.verify(t, "acme"), 6, ledger.KindModified, "action column")
	})
	t.Run("DeletedRow", func(t *testing.T) {
		e, raw := sealed(t)
		exec(t, raw, `DELETE FROM events WHERE tenant = 'acme' AND seq = 7`)
		r := e.verify(t, "acme")
		wantFirst(t, r, 7, ledger.KindMissing, "deleted")
		if r.BadSeqs != 1 {
			t.Errorf("%d bad seqs, want 1: %v", r.BadSeqs, r.Problems)
		}
	})
	t.Run("DeletedRowRenumbered", func(t *testing.T) {
		e, raw := sealed(t)
		next := eventID(t, raw, 8)
		exec(t, raw, `DELETE FROM events WHERE tenant = 'acme' AND seq = 7`,
			`UPDATE events SET seq = -seq WHERE tenant = 'acme' AND seq > 7`,
			`UPDATE events SET seq = -seq - 1 WHERE tenant = 'acme' AND seq < 0`)
		wantFirst(t, e.verify(t, "acme"), 7, ledger.KindMissing, next, "sealed at seq 8")
	})
	t.Run("InsertedRow", func(t *testing.T) {
		e, raw := sealed(t)
		sealedID := eventID(t, raw, 10)
		forged := forgeRow(t, raw, 10)
		exec(t, raw, `UPDATE events SET seq = -seq WHERE tenant = 'acme' AND seq >= 10`,
			`UPDATE events SET seq = -seq + 1 WHERE tenant = 'acme' AND seq < 0`)
		insertRow(t, raw, forged)
		wantFirst(t, e.verify(t, "acme"), 10, ledger.KindInserted, forged.ID, sealedID, "seq 11")
	})
	t.Run("SwappedRows", func(t *testing.T) {
		e, raw := sealed(t)
		id3, id8 := eventID(t, raw, 3), eventID(t, raw, 8)
		exec(t, raw, `UPDATE events SET seq = -1 WHERE tenant = 'acme' AND seq = 3`,
			`UPDATE events SET seq = 3 WHERE tenant = 'acme' AND seq = 8`,
			`UPDATE events SET seq = 8 WHERE tenant = 'acme' AND seq = -1`)
		r := e.verify(t, "acme")
		wantFirst(t, r, 3, ledger.KindReordered, id8, "sealed at seq 8", id3)
		if len(r.Problems) != 2 || r.Problems[1].Seq != 8 || r.Problems[1].Kind != ledger.KindReordered {
			t.Errorf("problems %v, want seqs 3 and 8 reordered", r.Problems)
		}
	})
	t.Run("OtherLogUntouched", func(t *testing.T) {
		e, raw := sealed(t)
		exec(t, raw, `DELETE FROM events WHERE tenant = 'acme' AND seq = 1`)
		if r := e.verify(t, "other"); !r.OK() {
			t.Errorf("log other: %v", r.Problems)
		}
	})
}

// TestVerifyLedgerTampering edits the ledger's own tables along with the
// events.
func TestVerifyLedgerTampering(t *testing.T) {
	t.Run("LeafHashEditedToMatch", func(t *testing.T) {
		e, raw := sealed(t)
		exec(t, raw, `UPDATE events SET actor_id = 'mallory', data = json_set(data, '$.actor.id', 'mallory')
			WHERE tenant = 'acme' AND seq = 12`)
		rows, err := e.db.LedgerRows(ctxT(t), "acme", 12, 1)
		if err != nil {
			t.Fatal(err)
		}
		h, _ := ledger.LeafHash(rows[0].Event)
		// Splice the new leaf hash into tile (0, 0) at slot 12.
		exec(t, raw, "UPDATE ledger_tiles SET hashes = substr(hashes, 1, 384) || x'"+hexOf(h)+
			"' || substr(hashes, 417) WHERE tenant = 'acme' AND level = 0 AND idx = 0")
		r := e.verify(t, "acme")
		if r.OK() || r.Problems[0].Kind != ledger.KindLedger || !strings.Contains(r.Problems[0].Detail, "seqs 12-13") {
			t.Fatalf("problems %v, want the ledger's hashes for seqs 12-13 named", r.Problems)
		}
	})
	t.Run("CheckpointFromAnotherKey", func(t *testing.T) {
		e, raw := sealed(t)
		other := newEnv(t, ledger.Config{})
		appendEvents(t, other.db, "acme", 40)
		other.sequence(t)
		head, _ := other.db.LedgerHead(ctxT(t), "acme")
		if _, err := raw.Exec("UPDATE ledger_heads SET checkpoint = ? WHERE tenant = 'acme'", head.Checkpoint); err != nil {
			t.Fatal(err)
		}
		r := e.verify(t, "acme")
		wantFirst(t, r, -1, ledger.KindLedger, "latest checkpoint does not verify")
	})
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	s := make([]byte, 0, 2*len(b))
	for _, c := range b {
		s = append(s, digits[c>>4], digits[c&15])
	}
	return string(s)
}

// forgeRow makes an event for tenant acme at seq, as an administrator
// would write it.
func forgeRow(t *testing.T, raw *sql.DB, seq int64) *trail.Event {
	t.Helper()
	var pos int64
	if err := raw.QueryRow("SELECT max(pos) + 1 FROM events").Scan(&pos); err != nil {
		t.Fatal(err)
	}
	ev := trail.NewSystemEvent("acme", "user.login", trail.Actor{Type: "user", ID: "forged"}, trail.Context{}, base)
	ev.Seq, ev.Pos = seq, pos
	return ev
}

func insertRow(t *testing.T, raw *sql.DB, ev *trail.Event) {
	t.Helper()
	data, _ := json.Marshal(ev)
	_, err := raw.Exec(`INSERT INTO events (pos, id, tenant, seq, action, occurred_at, received_at,
		actor_type, actor_id, actor_name, ip, trace_id, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ev.Pos, ev.ID, ev.Tenant, ev.Seq, ev.Action, ev.OccurredAt.UnixMicro(), ev.ReceivedAt.UnixMicro(),
		ev.Actor.Type, ev.Actor.ID, ev.Actor.Name, ev.Context.IP, ev.TraceID, data)
	if err != nil {
		t.Fatal(err)
	}
}

// TestRewrittenHistory: an attacker with the database and the signing key
// edits an event and rebuilds the whole ledger. The new checkpoints verify
// on their own, but not against a checkpoint kept from before.
func TestRewrittenHistory(t *testing.T) {
	e, raw := sealed(t)
	kept, err := e.db.LedgerHead(ctxT(t), "acme")
	if err != nil {
		t.Fatal(err)
	}
	old := e.checkpoint(t, "acme")
	exec(t, raw, `UPDATE events SET data = json_set(data, '$.actor.id', 'mallory'), actor_id = 'mallory'
		WHERE tenant = 'acme' AND seq = 5`,
		`DELETE FROM ledger_heads`, `DELETE FROM ledger_tiles`, `UPDATE stream_cursors SET pos = 0 WHERE name = 'ledger'`)
	appendEvents(t, e.db, "acme", 10)
	led, err := ledger.New(e.db, ledger.Config{Key: e.key, Origin: origin})
	if err != nil {
		t.Fatal(err)
	}
	e.led = led
	e.sequence(t)
	if r := e.verify(t, "acme"); !r.OK() {
		t.Fatalf("the rebuilt ledger does not even verify on its own: %v", r.Problems)
	}
	t.Run("ConsistencyProofFails", func(t *testing.T) {
		p, err := e.led.ConsistencyProof(ctxT(t), "acme", old.Size, 0)
		if err != nil {
			t.Fatal(err)
		}
		cur := e.checkpoint(t, "acme")
		err = proof.VerifyConsistency(rfc6962.DefaultHasher, uint64(old.Size), uint64(cur.Size), p.Hashes, old.Root, cur.Root)
		if err == nil {
			t.Fatal("a rewritten history is consistent with the checkpoint from before")
		}
	})
	t.Run("VerifierSince", func(t *testing.T) {
		v := e.led.Verifier()
		v.Since = [][]byte{kept.Checkpoint}
		r, err := v.VerifyLog(ctxT(t), "acme")
		if err != nil {
			t.Fatal(err)
		}
		wantFirst(t, r, -1, ledger.KindLedger, "not consistent", "rewritten")
	})
	t.Run("IntactSince", func(t *testing.T) {
		e2, _ := sealed(t)
		kept, _ := e2.db.LedgerHead(ctxT(t), "acme")
		appendEvents(t, e2.db, "acme", 300)
		e2.sequence(t)
		v := e2.led.Verifier()
		v.Since = [][]byte{kept.Checkpoint}
		if r, err := v.VerifyLog(ctxT(t), "acme"); err != nil || !r.OK() {
			t.Fatalf("an honest log fails against its own older checkpoint: %v %v", err, r.Problems)
		}
	})
}
