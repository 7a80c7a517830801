package console

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/ledger"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// proofWait bounds how long the event page waits for the ledger to seal a
// new event before it says "pending".
const proofWait = 300 * time.Millisecond

// LedgerProof returns a Config.Proof that proves an event against l's
// latest signed checkpoint and checks the proof, so the event page shows
// whether the stored event is in the tamper-evident log:
//
//	console.Config{..., Proof: console.LedgerProof(led)}
func LedgerProof(l *ledger.Ledger) func(ctx context.Context, e *trail.Event) (string, error) {
	return func(ctx context.Context, e *trail.Event) (string, error) {
		ctx, cancel := context.WithTimeout(ctx, proofWait)
		defer cancel()
		p, err := l.InclusionProof(ctx, e, 0)
		switch {
		// Running out of the short wait, at whichever step, also means the
		// ledger has not sealed the event yet.
		case trail.ErrorCode(err) == trail.EUNAVAILABLE, err != nil && errors.Is(err, context.DeadlineExceeded):
			return "pending: not sealed into a checkpoint yet (the ledger seals new events within seconds)", nil
		case err != nil:
			return "", err
		}
		cp, err := ledger.OpenCheckpoint([]byte(p.Checkpoint), l.Key().Verifier())
		if err != nil {
			return "", fmt.Errorf("open checkpoint: %w", err)
		}
		err = proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(p.LeafIndex), uint64(cp.Size), p.LeafHash, p.Hashes, cp.Root)
		if err != nil {
			return fmt.Sprintf("FAILED: the event does not match the signed checkpoint of size %d (%v)", cp.Size, err), nil
		}
		return fmt.Sprintf("verified: leaf %d of the signed checkpoint of size %d (%s)", p.LeafIndex, cp.Size, cp.Origin), nil
	}
}
