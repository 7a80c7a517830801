package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/trailhq/trail"
)

// BundleFormat names the evidence bundle format in its first line.
const BundleFormat = "trail-evidence-bundle/v1"

// An evidence bundle is JSON Lines: a header line, then for each log a
// checkpoint line before its first event, then one line per event with its
// inclusion proof in that checkpoint's tree. When a log's checkpoint is
// refreshed during an export, the new checkpoint line carries a
// consistency proof from the previous one. With the public key alone,
// VerifyBundle checks every line offline.
type bundleLine struct {
	// Header line.
	Bundle      string `json:"bundle,omitempty"`
	VerifierKey string `json:"verifier_key,omitempty"` // informational: verify with a key you trust
	CreatedAt   string `json:"created_at,omitempty"`

	// Checkpoint line: a signed note, and the consistency proof from the
	// previous checkpoint of the same log in this bundle, if any.
	Checkpoint  string            `json:"checkpoint,omitempty"`
	Consistency *ConsistencyProof `json:"consistency,omitempty"`

	// Event line: the event's JSON as the API returns it, and its proof.
	Event json.RawMessage `json:"event,omitempty"`
	Proof *InclusionProof `json:"proof,omitempty"`
}

// BundleWriter writes an evidence bundle.
type BundleWriter struct {
	l     *Ledger
	enc   *json.Encoder
	heads map[string]*trail.LedgerHead // the checkpoint each log's proofs use
	tiles map[string]*tiles
}

// NewBundle starts an evidence bundle on w, writing its header line.
func (l *Ledger) NewBundle(w io.Writer) (*BundleWriter, error) {
	b := &BundleWriter{l: l, enc: json.NewEncoder(w), heads: map[string]*trail.LedgerHead{}, tiles: map[string]*tiles{}}
	b.enc.SetEscapeHTML(false)
	err := b.enc.Encode(bundleLine{Bundle: BundleFormat, VerifierKey: l.cfg.Key.VerifierKey(),
		CreatedAt: l.cfg.Now().UTC().Format(time.RFC3339)})
	return b, err
}

// Add writes e with its inclusion proof, first writing a checkpoint of e's
// log that covers it when the bundle has none yet.
func (b *BundleWriter) Add(ctx context.Context, e *trail.Event) error {
	head, err := b.head(ctx, e)
	if err != nil {
		return err
	}
	t := b.tiles[e.Tenant]
	hashes, err := t.inclusion(ctx, e.Seq, head.Size)
	if err != nil {
		return fmt.Errorf("bundle: proof of event %s: %w", e.ID, err)
	}
	raw, err := json.Marshal(e)
	if err != nil {
		return err
	}
	leaf, err := Canonicalize(raw)
	if err != nil {
		return err
	}
	p := &InclusionProof{LeafIndex: e.Seq, TreeSize: head.Size, LeafHash: HashLeaf(leaf), Hashes: nonNil(hashes)}
	return b.enc.Encode(bundleLine{Event: raw, Proof: p})
}

// head returns the checkpoint that e's proof uses, writing a new
// checkpoint line when e is newer than the log's last one.
func (b *BundleWriter) head(ctx context.Context, e *trail.Event) (*trail.LedgerHead, error) {
	prev := b.heads[e.Tenant]
	if prev != nil && e.Seq < prev.Size {
		return prev, nil
	}
	head, err := b.l.checkpointCovering(ctx, e.Tenant, e.Seq+1)
	if err != nil {
		return nil, err
	}
	if head.Size <= e.Seq {
		return nil, trail.Errorf(trail.EUNAVAILABLE, "the ledger has not sealed event %s (seq %d) yet; retry shortly", e.ID, e.Seq)
	}
	if b.tiles[e.Tenant] == nil {
		b.tiles[e.Tenant] = newTiles(b.l.store, e.Tenant)
	}
	line := bundleLine{Checkpoint: string(head.Checkpoint)}
	if prev != nil {
		hashes, err := b.tiles[e.Tenant].consistency(ctx, prev.Size, head.Size)
		if err != nil {
			return nil, err
		}
		line.Consistency = &ConsistencyProof{From: prev.Size, To: head.Size, Hashes: nonNil(hashes)}
	}
	b.heads[e.Tenant] = head
	return head, b.enc.Encode(line)
}
