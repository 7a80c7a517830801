package ledger_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/teststore"
	"github.com/trailhq/trail/ledger"
	"github.com/trailhq/trail/sqlite"
	"golang.org/x/mod/sumdb/note"
)

const origin = "trail.test"

// env is a SQLite store with a ledger over it.
type env struct {
	db  *sqlite.DB
	led *ledger.Ledger
	key *ledger.Key
}

func newEnv(tb testing.TB, cfg ledger.Config) *env {
	tb.Helper()
	db := teststore.SQLite(tb)
	key, err := ledger.LoadOrCreateKey(filepath.Join(tb.TempDir(), ledger.KeyFile), origin)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Key, cfg.Origin = key, origin
	led, err := ledger.New(db, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return &env{db: db, led: led, key: key}
}

func ctxT(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	tb.Cleanup(cancel)
	return ctx
}

var base = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// appendEvents stores n events in tenant's log, in batches of up to 100.
func appendEvents(tb testing.TB, s trail.EventStore, tenant string, n int) {
	tb.Helper()
	for n > 0 {
		b := &trail.Batch{}
		for i := 0; i < min(n, 100); i++ {
			at := base.Add(time.Duration(i) * time.Millisecond)
			e := trail.NewSystemEvent(tenant, "user.login", trail.Actor{Type: "user", ID: fmt.Sprintf("u%d", i)},
				trail.Context{IP: "192.0.2.7"}, at, trail.Target{Type: "user", ID: fmt.Sprintf("t%d", i%7)})
			b.Events = append(b.Events, e)
		}
		if err := s.AppendBatches(ctxT(tb), []*trail.Batch{b}); err != nil {
			tb.Fatal(err)
		}
		n -= len(b.Events)
	}
}

// sequence runs sequencer rounds until nothing is left to integrate.
func (e *env) sequence(tb testing.TB) {
	tb.Helper()
	for {
		n, err := e.led.Step(ctxT(tb))
		if err != nil {
			tb.Fatalf("sequencer step: %v", err)
		}
		if n == 0 {
			return
		}
	}
}

// checkpoint returns tenant's latest checkpoint, opened with sumdb/note
// and the public key alone.
func (e *env) checkpoint(tb testing.TB, tenant string) ledger.Checkpoint {
	tb.Helper()
	head, err := e.db.LedgerHead(ctxT(tb), tenant)
	if err != nil {
		tb.Fatal(err)
	}
	v, err := note.NewVerifier(e.key.VerifierKey())
	if err != nil {
		tb.Fatal(err)
	}
	n, err := note.Open(head.Checkpoint, note.VerifierList(v))
	if err != nil {
		tb.Fatalf("open checkpoint with sumdb/note: %v", err)
	}
	c, err := ledger.ParseCheckpoint(n.Text)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// referenceRoot computes the RFC 6962 Merkle tree hash (MTH, section 2.1)
// of tenant's stored events by its recursive definition, independently of
// the ledger's tree code.
func referenceRoot(tb testing.TB, s trail.EventStore, tenant string, size int64) []byte {
	tb.Helper()
	var leaves [][]byte
	for int64(len(leaves)) < size {
		evs, err := s.LogEvents(ctxT(tb), tenant, int64(len(leaves)), 1000)
		if err != nil || len(evs) == 0 {
			tb.Fatalf("log events: %v (%d read)", err, len(evs))
		}
		for _, e := range evs {
			d, err := ledger.LeafData(e)
			if err != nil {
				tb.Fatal(err)
			}
			leaves = append(leaves, d)
		}
	}
	return mth(leaves[:size])
}

func mth(leaves [][]byte) []byte {
	switch len(leaves) {
	case 0:
		h := sha256.Sum256(nil)
		return h[:]
	case 1:
		h := sha256.Sum256(append([]byte{0}, leaves[0]...))
		return h[:]
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	h := sha256.New()
	h.Write([]byte{1})
	h.Write(mth(leaves[:k]))
	h.Write(mth(leaves[k:]))
	return h.Sum(nil)
}
