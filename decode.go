package trail

import (
	"bytes"
	"io"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Decoding a request body is most of ingest's CPU, so ParseEvents first
// tries a fast path with the JSON v2 decoder, which reads a clean body in a
// fraction of encoding/json's time. Its rules are stricter than the careful
// path's: member names match exactly, and an unknown member, a name used
// twice in any object, invalid UTF-8 or anything else unusual is an error.
// On any error it gives up and the careful path (validate.go) decodes the
// body again, to accept what it accepts and to name every problem as it
// does. So the fast path changes how fast a body is read, never what is
// accepted or what an error says.

// strictOptions are the JSON v2 options of the fast path. Repeated names
// and invalid UTF-8 are errors by default.
var strictOptions = jsonv2.RejectUnknownMembers(true)

// parseFast decodes body, a single event or {"events": [...]}, if it is
// clean; ok is false when the careful path must decide. Each input comes
// back with clean set: no object in it repeats a name, which spares
// Validate its own walk of metadata for repeated names.
func parseFast(body []byte) (ins []*EventInput, ok bool) {
	dec := jsontext.NewDecoder(bytes.NewReader(body))
	if dec.PeekKind() != '{' {
		return nil, false
	}
	if first, err := dec.ReadToken(); err != nil || first.Kind() != '{' {
		return nil, false
	}
	name, err := dec.ReadToken()
	if err != nil || name.Kind() != '"' || name.String() != "events" {
		in, ok := decodeFast(body)
		return []*EventInput{in}, ok
	}
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '[' {
		return nil, false
	}
	if hasEscapedNUL(body) {
		return nil, false
	}
	for dec.PeekKind() != ']' {
		// Each event is decoded straight from the stream, in one pass. Its
		// size counts the separator before it too, so an event near the
		// limit may go to the careful path, which then decides exactly.
		start := dec.InputOffset()
		in := &EventInput{clean: true}
		if len(ins) == MaxBatchEvents || jsonv2.UnmarshalDecode(dec, in, strictOptions) != nil ||
			dec.InputOffset()-start > MaxEventBytes {
			return nil, false
		}
		ins = append(ins, in)
	}
	for _, want := range []jsontext.Kind{']', '}'} {
		if tok, err := dec.ReadToken(); err != nil || tok.Kind() != want {
			return nil, false
		}
	}
	if _, err := dec.ReadToken(); err != io.EOF || len(ins) == 0 {
		return nil, false
	}
	return ins, true
}

// decodeFast decodes one event's JSON strictly.
func decodeFast(raw []byte) (*EventInput, bool) {
	if len(raw) > MaxEventBytes || hasEscapedNUL(raw) {
		return nil, false
	}
	in := &EventInput{clean: true}
	if err := jsonv2.Unmarshal(raw, in, strictOptions); err != nil {
		return nil, false
	}
	return in, true
}
