package ledger

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/trailhq/trail"
)

// LeafData returns the bytes that e's ledger leaf commits to: the event's
// JSON exactly as Trail stores and returns it (every member, seq and tenant
// included), canonicalized with the JSON Canonicalization Scheme of RFC 8785.
//
// Canonical bytes make the leaf independent of member order, whitespace and
// escaping, so a customer can recompute it from the event JSON that the API
// or an export hands out, with any RFC 8785 implementation.
func LeafData(e *trail.Event) ([]byte, error) {
	b, err := json.Marshal(e)
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

// HashLeaf returns the RFC 6962 hash of a leaf with the given data.
func HashLeaf(data []byte) []byte {
	h := sha256.New()
	h.Write([]byte{0})
	h.Write(data)
	return h.Sum(nil)
}

// Canonicalize returns the RFC 8785 canonical form of the JSON value b.
//
// JSON that is not I-JSON (RFC 7493) has no canonical form in RFC 8785. So
// that such a value, which older clients may have stored in metadata, never
// stops the ledger, duplicate member names are kept (sorted by name, then
// value) and invalid UTF-8 or lone surrogates become U+FFFD. Valid I-JSON is
// unaffected by this choice.
func Canonicalize(b []byte) ([]byte, error) {
	v := jsontext.Value(append([]byte(nil), b...))
	err := v.Canonicalize(jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	if err != nil {
		return nil, fmt.Errorf("canonicalize json: %w", err)
	}
	return v, nil
}
