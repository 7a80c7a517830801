package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/trailhq/trail"
)

// FreshWait bounds how long Checkpoint waits for the sequencer to cover
// the events stored before the call.
const FreshWait = 2 * time.Second

// Checkpoint returns the head of tenant's log once its checkpoint covers
// every event the log held when the call began: the sequencer (if it runs
// in this process) is nudged, and the call waits up to FreshWait for
// whichever node sequences. If that does not happen in time the latest
// head is returned, which is still a valid, older checkpoint. A log with
// no events gets a freshly signed checkpoint of the empty tree.
func (l *Ledger) Checkpoint(ctx context.Context, tenant string) (*trail.LedgerHead, error) {
	want, err := l.store.LogSize(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("log size: %w", err)
	}
	return l.checkpointCovering(ctx, tenant, want)
}

// checkpointCovering returns the head of tenant's log once its size is at
// least want, or the latest head after FreshWait.
func (l *Ledger) checkpointCovering(ctx context.Context, tenant string, want int64) (*trail.LedgerHead, error) {
	deadline := time.Now().Add(FreshWait)
	l.Trigger()
	for {
		head, err := l.store.LedgerHead(ctx, tenant)
		switch {
		case trail.ErrorCode(err) == trail.ENOTFOUND:
			head, err = l.emptyHead(tenant)
		case err != nil:
			return nil, fmt.Errorf("ledger head: %w", err)
		}
		if err != nil || head.Size >= want || !time.Now().Before(deadline) {
			return head, err
		}
		select {
		case <-ctx.Done():
			return head, nil
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (l *Ledger) emptyHead(tenant string) (*trail.LedgerHead, error) {
	c := Checkpoint{Origin: LogOrigin(l.cfg.Origin, tenant), Size: 0, Root: hasher.EmptyRoot()}
	note, err := l.cfg.Key.SignCheckpoint(c)
	if err != nil {
		return nil, err
	}
	return &trail.LedgerHead{Tenant: tenant, Checkpoint: note, UpdatedAt: l.cfg.Now().UTC()}, nil
}

// InclusionProof proves that an event is leaf LeafIndex of the tree of
// TreeSize. Hashes are in RFC 6962 order (leaf to root), as
// transparency-dev/merkle's proof.VerifyInclusion takes them.
type InclusionProof struct {
	LeafIndex int64    `json:"leaf_index"`
	TreeSize  int64    `json:"tree_size"`
	LeafHash  []byte   `json:"leaf_hash"`
	Hashes    [][]byte `json:"hashes"`
	// Checkpoint is the signed checkpoint of TreeSize, when TreeSize is
	// the latest checkpoint's size.
	Checkpoint string `json:"checkpoint,omitempty"`
}

// InclusionProof proves e's leaf in the tree of size treeSize of e's log;
// treeSize 0 means the latest checkpoint, waiting for it to cover e.
func (l *Ledger) InclusionProof(ctx context.Context, e *trail.Event, treeSize int64) (*InclusionProof, error) {
	head, err := l.checkpointCovering(ctx, e.Tenant, e.Seq+1)
	if err != nil {
		return nil, err
	}
	switch {
	case treeSize == 0 && head.Size <= e.Seq:
		return nil, trail.Errorf(trail.EUNAVAILABLE, "the ledger has not sealed seq %d yet; retry shortly", e.Seq)
	case treeSize == 0:
		treeSize = head.Size
	case treeSize <= e.Seq:
		return nil, trail.Invalid("tree_size", fmt.Sprintf("must be greater than the event's seq (%d)", e.Seq))
	case treeSize > head.Size:
		return nil, trail.Invalid("tree_size", fmt.Sprintf("larger than the latest checkpoint's size (%d)", head.Size))
	}
	leaf, err := LeafHash(e)
	if err != nil {
		return nil, err
	}
	hashes, err := newTiles(l.store, e.Tenant).inclusion(ctx, e.Seq, treeSize)
	if err != nil {
		return nil, err
	}
	p := &InclusionProof{LeafIndex: e.Seq, TreeSize: treeSize, LeafHash: leaf, Hashes: nonNil(hashes)}
	if treeSize == head.Size {
		p.Checkpoint = string(head.Checkpoint)
	}
	return p, nil
}

// ConsistencyProof proves that the tree of size From is a prefix of the
// tree of size To, in RFC 6962 order.
type ConsistencyProof struct {
	From   int64    `json:"from"`
	To     int64    `json:"to"`
	Hashes [][]byte `json:"hashes"`
	// Checkpoint is the signed checkpoint of To, when To is the latest
	// checkpoint's size.
	Checkpoint string `json:"checkpoint,omitempty"`
}

// ConsistencyProof proves that tenant's tree of size from is a prefix of
// its tree of size to; to 0 means the latest checkpoint.
func (l *Ledger) ConsistencyProof(ctx context.Context, tenant string, from, to int64) (*ConsistencyProof, error) {
	head, err := l.store.LedgerHead(ctx, tenant)
	switch {
	case trail.ErrorCode(err) == trail.ENOTFOUND:
		head, err = l.emptyHead(tenant)
	case err != nil:
		return nil, fmt.Errorf("ledger head: %w", err)
	}
	if err != nil {
		return nil, err
	}
	if to == 0 {
		to = head.Size
	}
	switch {
	case from < 0:
		return nil, trail.Invalid("from", "must be an integer >= 0")
	case to > head.Size:
		return nil, trail.Invalid("to", fmt.Sprintf("larger than the latest checkpoint's size (%d)", head.Size))
	case from > to:
		return nil, trail.Invalid("from", fmt.Sprintf("must not be larger than to (%d)", to))
	}
	hashes, err := newTiles(l.store, tenant).consistency(ctx, from, to)
	if err != nil {
		return nil, err
	}
	p := &ConsistencyProof{From: from, To: to, Hashes: nonNil(hashes)}
	if to == head.Size {
		p.Checkpoint = string(head.Checkpoint)
	}
	return p, nil
}

// nonNil makes an empty proof encode as [] rather than null.
func nonNil(h [][]byte) [][]byte {
	if h == nil {
		return [][]byte{}
	}
	return h
}
