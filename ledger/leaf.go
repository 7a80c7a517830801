package ledger

import (
	"crypto/sha256"
	"fmt"
	"sync"

	"github.com/trailhq/trail"
)

// LeafData returns the bytes that e's ledger leaf commits to: the event's
// JSON exactly as Trail stores and returns it (every member, seq and tenant
// included; the store keeps json.Marshal of the event), canonicalized with
// the JSON Canonicalization Scheme of RFC 8785.
//
// Canonical bytes make the leaf independent of member order, whitespace and
// escaping, so a customer can recompute it from the event JSON that the API
// or an export hands out, with any RFC 8785 implementation.
func LeafData(e *trail.Event) ([]byte, error) {
	b, err := trail.MarshalEvent(e)
	if err != nil {
		return nil, fmt.Errorf("leaf of event %s: %w", e.ID, err)
	}
	return Canonicalize(b)
}

// LeafHash returns e's RFC 6962 leaf hash: SHA-256(0x00 || LeafData(e)).
func LeafHash(e *trail.Event) ([]byte, error) {
	data, err := LeafData(e)
	if err != nil {
		return nil, err
	}
	return HashLeaf(data), nil
}

// LeafHashJSON returns the leaf hash of an event given as its JSON: as the
// store keeps it, as the API returns it, or as a bundle carries it.
func LeafHashJSON(event []byte) ([]byte, error) {
	// The sequencer hashes every event: canonicalize into a reused buffer.
	buf := leafBufs.Get().(*[]byte)
	defer leafBufs.Put(buf)
	data, err := appendCanonical(append((*buf)[:0], 0), event)
	if err != nil {
		return nil, err
	}
	*buf = data
	sum := sha256.Sum256(data) // data starts with the 0x00 leaf prefix
	return sum[:], nil
}

var leafBufs = sync.Pool{New: func() any { return new([]byte) }}

// rowLeaf returns the leaf hash of a stored row: of its stored JSON when
// the source has it, else of its decoded event.
func rowLeaf(row *trail.LedgerRow) ([]byte, error) {
	if row.Data != nil {
		return LeafHashJSON(row.Data)
	}
	return LeafHash(row.Event)
}

// rowData returns the JSON that a row's leaf hashes.
func rowData(row *trail.LedgerRow) ([]byte, error) {
	if row.Data != nil {
		return row.Data, nil
	}
	return trail.MarshalEvent(row.Event)
}

// HashLeaf returns the RFC 6962 hash of a leaf with the given data.
func HashLeaf(data []byte) []byte {
	h := sha256.New()
	h.Write([]byte{0})
	h.Write(data)
	return h.Sum(nil)
}
