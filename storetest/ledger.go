package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/ledger"
)

// newLedger returns a ledger over s; ledgers made with the same key act as
// nodes sharing one signing key.
func newLedger(t *testing.T, s ledger.Store, key *ledger.Key) *ledger.Ledger {
	t.Helper()
	l, err := ledger.New(s, ledger.Config{Key: key, Origin: "storetest", BatchSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func newLedgerKey(t *testing.T) *ledger.Key {
	t.Helper()
	key, err := ledger.LoadOrCreateKey(filepath.Join(t.TempDir(), ledger.KeyFile), "storetest")
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// sequenceAll runs sequencer rounds until nothing is left.
func sequenceAll(t *testing.T, l *ledger.Ledger) {
	t.Helper()
	for {
		n, err := l.Step(ctx(t))
		if trail.ErrorCode(err) == trail.ECONFLICT {
			continue // another ledger committed last: l reads its state again
		}
		if err != nil {
			t.Fatalf("sequencer step: %v", err)
		}
		if n == 0 {
			return
		}
	}
}

func appendN(t *testing.T, s trail.Store, tenant string, n int) {
	t.Helper()
	var evs []*trail.Event
	for i := 0; i < n; i++ {
		evs = append(evs, ev(tenant, "user.login", fmt.Sprintf("u%d", i), i))
	}
	mustAppend(t, s, batch(evs...))
}

// testLedgerCommit checks the store's side of a sequencer round: the
// cursor's compare-and-set, heads and growing tiles.
func testLedgerCommit(t *testing.T, open func(t *testing.T) trail.Store) {
	s := open(t)
	cur, err := s.LedgerCursor(ctx(t))
	if err != nil || cur != 0 {
		t.Fatalf("initial cursor %d, %v; want 0", cur, err)
	}
	_, err = s.LedgerHead(ctx(t), "acme")
	wantCode(t, err, trail.ENOTFOUND)
	tile := func(level int, idx int64, n int) *trail.LedgerTile {
		return &trail.LedgerTile{LedgerTileID: trail.LedgerTileID{Level: level, Index: idx},
			Hashes: bytes.Repeat([]byte{byte(level + 1)}, 32*n)}
	}
	head := &trail.LedgerHead{Tenant: "acme", Size: 3, Checkpoint: []byte("note 3\n"), UpdatedAt: base}
	c := &trail.LedgerCommit{After: 0, Cursor: 3, Heads: []*trail.LedgerHead{head},
		Tiles: map[string][]*trail.LedgerTile{"acme": {tile(0, 0, 3), tile(1, 0, 1)}}}
	if err := s.CommitLedger(ctx(t), c); err != nil {
		t.Fatal(err)
	}
	t.Run("ErrConflict", func(t *testing.T) {
		stale := &trail.LedgerCommit{After: 0, Cursor: 9, Heads: []*trail.LedgerHead{{Tenant: "acme", Size: 9,
			Checkpoint: []byte("stale\n"), UpdatedAt: base}}}
		wantCode(t, s.CommitLedger(ctx(t), stale), trail.ECONFLICT)
		got, err := s.LedgerHead(ctx(t), "acme")
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, "head after a stale commit", got, head)
	})
	grown := &trail.LedgerCommit{After: 3, Cursor: 5, Heads: []*trail.LedgerHead{{Tenant: "acme", Size: 5,
		Checkpoint: []byte("note 5\n"), UpdatedAt: base}}, Tiles: map[string][]*trail.LedgerTile{"acme": {tile(0, 0, 5)}}}
	if err := s.CommitLedger(ctx(t), grown); err != nil {
		t.Fatal(err)
	}
	t.Run("Tiles", func(t *testing.T) {
		got, err := s.LedgerTiles(ctx(t), "acme", []trail.LedgerTileID{{Level: 0}, {Level: 1}, {Level: 0, Index: 7}})
		if err != nil {
			t.Fatal(err)
		}
		want := map[trail.LedgerTileID]int{{Level: 0}: 5 * 32, {Level: 1}: 32}
		if len(got) != len(want) {
			t.Fatalf("%d tiles, want %d", len(got), len(want))
		}
		for _, tl := range got {
			if len(tl.Hashes) != want[tl.LedgerTileID] {
				t.Errorf("tile %+v: %d bytes, want %d", tl.LedgerTileID, len(tl.Hashes), want[tl.LedgerTileID])
			}
		}
	})
	t.Run("Heads", func(t *testing.T) {
		heads, err := s.LedgerHeads(ctx(t))
		if err != nil || len(heads) != 1 || heads[0].Size != 5 || string(heads[0].Checkpoint) != "note 5\n" {
			t.Fatalf("heads %v, %v; want acme at size 5", heads, err)
		}
	})
}

// testLedgerRowsAndSize checks LedgerRows and LogSize.
func testLedgerRowsAndSize(t *testing.T, open func(t *testing.T) trail.Store) {
	s := open(t)
	e0, e1 := fullEvent("acme", 0), fullEvent("acme", 1)
	mustAppend(t, s, batch(e0, e1, ev("other", "user.login", "u", 2)))
	rows, err := s.LedgerRows(ctx(t), "acme", 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(e1)
	wantEqual(t, "LedgerRows", rows, []trail.LedgerRow{{Seq: 1, Event: e1, Data: data}})
	entries, err := s.LedgerStream(ctx(t), e0.Pos, 10)
	if err != nil {
		t.Fatal(err)
	}
	// The stored JSON is the event's json.Marshal, byte for byte: the
	// sequencer hashes it and customers hash what the API returns.
	if len(entries) != 2 || entries[0].Pos != e1.Pos || entries[0].Tenant != "acme" || entries[0].Seq != 1 ||
		!bytes.Equal(entries[0].Data, data) || entries[1].Tenant != "other" || entries[1].Seq != 0 {
		t.Fatalf("LedgerStream after pos %d: %+v", e0.Pos, entries)
	}
	for _, tt := range []struct {
		tenant string
		want   int64
	}{{"acme", 2}, {"other", 1}, {"nobody", 0}} {
		if got, err := s.LogSize(ctx(t), tt.tenant); err != nil || got != tt.want {
			t.Errorf("LogSize(%q) = %d, %v; want %d", tt.tenant, got, err, tt.want)
		}
	}
}

// testLedgerSequencing runs the ledger over the store while appends arrive
// from several goroutines and a second, stale sequencer (a node that lost
// its lease without noticing) tries to commit too, then verifies every log.
func testLedgerSequencing(t *testing.T, open func(t *testing.T) trail.Store) {
	s := open(t)
	key := newLedgerKey(t)
	l, stale := newLedger(t, s, key), newLedger(t, s, key)
	runCtx, stop := context.WithCancel(ctx(t))
	done := make(chan error, 1)
	go func() { done <- l.Run(runCtx) }()
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				tenant := []string{"acme", "globex", trail.SystemTenant}[(w+i)%3]
				e := ev(tenant, "user.login", fmt.Sprintf("w%d", w), i)
				if err := s.AppendBatches(ctx(t), []*trail.Batch{batch(e, ev(tenant, "user.logout", "x", i))}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	for i := 0; i < 20; i++ {
		if _, err := stale.Step(ctx(t)); err != nil && trail.ErrorCode(err) != trail.ECONFLICT {
			t.Errorf("stale sequencer: %v", err)
		}
	}
	wg.Wait()
	stop()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	sequenceAll(t, l)
	reports, err := l.Verifier().VerifyAll(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, r := range reports {
		if !r.OK() || r.Pending != 0 {
			t.Errorf("log %q: %s %v", r.Tenant, r.Summary(), r.Problems)
		}
		total += r.Checked
	}
	if total != 80 {
		t.Errorf("%d events verified over %d logs, want 80", total, len(reports))
	}
}

// testLedgerPruned prunes a prefix the way retention does and checks that
// the verifier reports it as pruned, with its checkpoint, not as missing.
func testLedgerPruned(t *testing.T, open func(t *testing.T) trail.Store) {
	s := open(t)
	rs := s
	l := newLedger(t, s, newLedgerKey(t))
	appendN(t, s, "acme", 30)
	sequenceAll(t, l)
	appendN(t, s, "acme", 5) // not sealed: must not be prunable
	r, err := s.RecordPruned(ctx(t), "acme", 100, base)
	if err != nil {
		t.Fatal(err)
	}
	if r == nil || r.From != 0 || r.To != 30 {
		t.Fatalf("pruned range %+v, want [0, 30): lowered to the sealed size", r)
	}
	if _, _, err := rs.DeleteEvents(ctx(t), "acme", 0, 20, 1000); err != nil {
		t.Fatal(err)
	}
	again, err := s.RecordPruned(ctx(t), "acme", 10, base)
	if err != nil || again == nil || again.To != 30 {
		t.Fatalf("RecordPruned below the pruned prefix = %+v, %v; want the recorded range", again, err)
	}
	sequenceAll(t, l)
	rep, err := l.Verifier().VerifyLog(ctx(t), "acme")
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("pruned log reported as tampered: %v", rep.Problems)
	}
	wantEqual(t, "pruned", rep.Pruned, []ledger.PrunedReport{{From: 0, To: 30, CheckpointSize: 30}})
	// Events 20..29 are inside the pruned range but still stored: they
	// are checked too, like events a legal hold keeps.
	if got, want := rep.Checked, int64(15); got != want {
		t.Errorf("%d events checked, want %d", got, want)
	}
}
