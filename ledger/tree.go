package ledger

import (
	"context"
	"errors"
	"fmt"

	"github.com/trailhq/trail"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// hasher is the RFC 6962 SHA-256 tree hasher.
var hasher = rfc6962.DefaultHasher

// factory makes compact ranges of RFC 6962 trees.
var factory = &compact.RangeFactory{Hash: hasher.HashChildren}

const (
	tileWidth = trail.LedgerTileWidth
	hashSize  = trail.LedgerHashSize
)

// tileOf returns the tile that holds node id and the node's slot in it.
func tileOf(id compact.NodeID) (trail.LedgerTileID, int) {
	return trail.LedgerTileID{Level: int(id.Level), Index: int64(id.Index / tileWidth)}, int(id.Index % tileWidth)
}

// tiles reads node hashes of one log from the store's tiles, keeping the
// tiles it read: a proof or a verification pass touches each only once.
type tiles struct {
	store  tileReader
	tenant string
	cache  map[trail.LedgerTileID][]byte
}

// tileReader is the part of a store, or of a remote ledger, that reads
// tiles.
type tileReader interface {
	LedgerTiles(ctx context.Context, tenant string, ids []trail.LedgerTileID) ([]*trail.LedgerTile, error)
}

func newTiles(s tileReader, tenant string) *tiles {
	return &tiles{store: s, tenant: tenant, cache: map[trail.LedgerTileID][]byte{}}
}

// nodes returns the hashes of ids, in order. A partial tile read earlier is
// read again when it lacks a node, since tiles grow.
func (t *tiles) nodes(ctx context.Context, ids []compact.NodeID) ([][]byte, error) {
	var fetch []trail.LedgerTileID
	seen := map[trail.LedgerTileID]bool{}
	for _, id := range ids {
		tid, slot := tileOf(id)
		if len(t.cache[tid]) < (slot+1)*hashSize && !seen[tid] {
			seen[tid] = true
			fetch = append(fetch, tid)
		}
	}
	if len(fetch) > 0 {
		got, err := t.store.LedgerTiles(ctx, t.tenant, fetch)
		if err != nil {
			return nil, &ReadError{Err: fmt.Errorf("read ledger tiles: %w", err)}
		}
		for _, tile := range got {
			t.cache[tile.LedgerTileID] = tile.Hashes
		}
	}
	hashes := make([][]byte, len(ids))
	for i, id := range ids {
		tid, slot := tileOf(id)
		b := t.cache[tid]
		if len(b) < (slot+1)*hashSize {
			return nil, fmt.Errorf("ledger of log %q lacks tree node (level %d, index %d)", t.tenant, id.Level, id.Index)
		}
		hashes[i] = append([]byte(nil), b[slot*hashSize:(slot+1)*hashSize]...)
	}
	return hashes, nil
}

// leaf returns the stored leaf hash of seq.
func (t *tiles) leaf(ctx context.Context, seq int64) ([]byte, error) {
	hs, err := t.nodes(ctx, []compact.NodeID{compact.NewNodeID(0, uint64(seq))})
	if err != nil {
		return nil, err
	}
	return hs[0], nil
}

// ReadError is a failure to read from the verifier's source (a store, or
// a server through its API): it says nothing about the log, so the
// verifier returns it as an error and never reports it as a problem.
type ReadError struct{ Err error }

func (e *ReadError) Error() string { return e.Err.Error() }
func (e *ReadError) Unwrap() error { return e.Err }

// readErr returns err as a *ReadError.
func readErr(err error) error {
	if re := (*ReadError)(nil); err == nil || errors.As(err, &re) {
		return err
	}
	return &ReadError{Err: err}
}

// readSource is a Source whose every error is a *ReadError.
type readSource struct{ Source }

func (s readSource) LedgerHead(ctx context.Context, tenant string) (*trail.LedgerHead, error) {
	h, err := s.Source.LedgerHead(ctx, tenant)
	return h, readErr(err)
}

func (s readSource) LedgerHeads(ctx context.Context) ([]*trail.LedgerHead, error) {
	h, err := s.Source.LedgerHeads(ctx)
	return h, readErr(err)
}

func (s readSource) LedgerTiles(ctx context.Context, tenant string, ids []trail.LedgerTileID) ([]*trail.LedgerTile, error) {
	t, err := s.Source.LedgerTiles(ctx, tenant, ids)
	return t, readErr(err)
}

func (s readSource) LedgerRows(ctx context.Context, tenant string, from int64, limit int) ([]trail.LedgerRow, error) {
	r, err := s.Source.LedgerRows(ctx, tenant, from, limit)
	return r, readErr(err)
}

func (s readSource) MovedEvents(ctx context.Context, tenant string) ([]*trail.MovedEvent, error) {
	m, err := s.Source.MovedEvents(ctx, tenant)
	return m, readErr(err)
}

func (s readSource) PrunedRanges(ctx context.Context, tenant string) ([]*trail.PrunedRange, error) {
	p, err := s.Source.PrunedRanges(ctx, tenant)
	return p, readErr(err)
}

// rangeTo returns the compact range [0, size) of the stored tree.
func (t *tiles) rangeTo(ctx context.Context, size int64) (*compact.Range, error) {
	hashes, err := t.nodes(ctx, compact.RangeNodes(0, uint64(size), nil))
	if err != nil {
		return nil, err
	}
	return factory.NewRange(0, uint64(size), hashes)
}

// inclusion returns the RFC 6962 inclusion proof of leaf index in the tree
// of size, built from stored nodes with transparency-dev/merkle's proof
// package.
func (t *tiles) inclusion(ctx context.Context, index, size int64) ([][]byte, error) {
	n, err := proof.Inclusion(uint64(index), uint64(size))
	if err != nil {
		return nil, err
	}
	return t.rehash(ctx, n)
}

// consistency returns the RFC 6962 consistency proof between the trees of
// size1 and size2.
func (t *tiles) consistency(ctx context.Context, size1, size2 int64) ([][]byte, error) {
	n, err := proof.Consistency(uint64(size1), uint64(size2))
	if err != nil {
		return nil, err
	}
	return t.rehash(ctx, n)
}

func (t *tiles) rehash(ctx context.Context, n proof.Nodes) ([][]byte, error) {
	hashes, err := t.nodes(ctx, n.IDs)
	if err != nil {
		return nil, err
	}
	return n.Rehash(hashes, hasher.HashChildren)
}

// rootOf returns the root hash of the tree that r covers, from index 0.
func rootOf(r *compact.Range) []byte {
	if r.End() == 0 {
		return hasher.EmptyRoot()
	}
	root, err := r.GetRootHash(nil)
	if err != nil {
		panic(err) // every range here starts at 0
	}
	return root
}

// evictBelow forgets the cached tiles that only cover leaves below seq, so
// that a pass over a whole log keeps memory flat.
func (t *tiles) evictBelow(seq int64) {
	for tid := range t.cache {
		end := (tid.Index + 1) * tileWidth << tid.Level // first leaf after the tile
		if end <= seq {
			delete(t.cache, tid)
		}
	}
}
