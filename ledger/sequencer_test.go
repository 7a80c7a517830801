package ledger_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/testenv"
	"github.com/trailhq/trail/ledger"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

func TestSequencer(t *testing.T) {
	e := newEnv(t, ledger.Config{BatchSize: 97}) // odd batches cross tile edges mid-round
	appendEvents(t, e.db, "acme", 300)
	appendEvents(t, e.db, trail.SystemTenant, 3)
	e.sequence(t)

	t.Run("CheckpointMatchesReferenceRoot", func(t *testing.T) {
		for _, tenant := range []string{"acme", trail.SystemTenant} {
			c := e.checkpoint(t, tenant)
			want := int64(map[string]int{"acme": 300, "": 3}[tenant])
			if c.Size != want {
				t.Errorf("log %q: size %d, want %d", tenant, c.Size, want)
			}
			if c.Origin != ledger.LogOrigin(origin, tenant) {
				t.Errorf("log %q: origin %q", tenant, c.Origin)
			}
			if ref := referenceRoot(t, e.db, tenant, c.Size); !bytes.Equal(c.Root, ref) {
				t.Errorf("log %q: root %x, reference MTH %x", tenant, c.Root, ref)
			}
		}
	})
	old := e.checkpoint(t, "acme")

	// A new ledger reads its state back from the store, and a round that
	// crosses into a third level-0 tile must extend the stored tiles.
	led2, err := ledger.New(e.db, ledger.Config{Key: e.key, Origin: origin, BatchSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	e.led = led2
	appendEvents(t, e.db, "acme", 250)
	e.sequence(t)
	cur := e.checkpoint(t, "acme")
	if ref := referenceRoot(t, e.db, "acme", 550); cur.Size != 550 || !bytes.Equal(cur.Root, ref) {
		t.Fatalf("after restart: size %d root %x, want 550 and %x", cur.Size, cur.Root, ref)
	}

	t.Run("InclusionProofs", func(t *testing.T) {
		evs, err := e.db.LogEvents(ctxT(t), "acme", 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			for _, size := range []int64{0, old.Size} {
				if size != 0 && ev.Seq >= size {
					continue
				}
				p, err := e.led.InclusionProof(ctxT(t), ev, size)
				if err != nil {
					t.Fatalf("seq %d size %d: %v", ev.Seq, size, err)
				}
				root := cur.Root
				if size == old.Size {
					root = old.Root
				}
				err = proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(p.LeafIndex), uint64(p.TreeSize), p.LeafHash, p.Hashes, root)
				if err != nil {
					t.Fatalf("seq %d in tree %d: %v", ev.Seq, p.TreeSize, err)
				}
			}
		}
	})
	t.Run("ConsistencyProofs", func(t *testing.T) {
		for _, from := range []int64{1, 2, 255, 256, 257, old.Size} {
			p, err := e.led.ConsistencyProof(ctxT(t), "acme", from, 0)
			if err != nil {
				t.Fatal(err)
			}
			r1 := referenceRoot(t, e.db, "acme", from)
			if err := proof.VerifyConsistency(rfc6962.DefaultHasher, uint64(from), uint64(p.To), p.Hashes, r1, cur.Root); err != nil {
				t.Errorf("consistency %d -> %d: %v", from, p.To, err)
			}
		}
	})
	t.Run("ErrTreeSizeNotAbove", func(t *testing.T) {
		evs, _ := e.db.LogEvents(ctxT(t), "acme", 10, 1)
		_, err := e.led.InclusionProof(ctxT(t), evs[0], 10)
		if got, want := trail.ErrorCode(err), trail.EINVALID; got != want {
			t.Errorf("tree_size 10 for seq 10: code %q, want %q (%v)", got, want, err)
		}
	})
	t.Run("ErrToBeyondCheckpoint", func(t *testing.T) {
		_, err := e.led.ConsistencyProof(ctxT(t), "acme", 1, 551)
		if got, want := trail.ErrorCode(err), trail.EINVALID; got != want {
			t.Errorf("to 551 of 550: code %q, want %q (%v)", got, want, err)
		}
	})
}

// The sequencer follows the stream with the node's Follower: a commit of
// the node's Writer wakes it, long before its poll interval.
func TestSequencerWokenByCommit(t *testing.T) {
	f := trail.NewFollower()
	e := newEnv(t, ledger.Config{Interval: time.Hour, Follower: f})
	ctx, cancel := context.WithCancel(ctxT(t))
	done := make(chan error, 1)
	go func() { done <- e.led.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	w := trail.NewWriter(e.db, 1000, func(trail.CommitStats) { f.Notify() })
	defer w.Close()
	b := &trail.Batch{}
	for i := range 5 {
		b.Events = append(b.Events, trail.NewSystemEvent("acme", "user.login", trail.Actor{Type: "user", ID: "u1"},
			trail.Context{}, base.Add(time.Duration(i)*time.Millisecond)))
	}
	if err := w.Append(ctx, b); err != nil {
		t.Fatal(err)
	}
	var head *trail.LedgerHead
	var err error
	if !testenv.Poll(10*time.Second, func() bool {
		head, err = e.db.LedgerHead(ctx, "acme")
		return err == nil && head.Size == 5
	}) {
		t.Fatalf("log not sealed 10s after the commit (head %+v, %v)", head, err)
	}
}
