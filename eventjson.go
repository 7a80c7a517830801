package trail

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// This file is the event codec: the one place that turns events into the
// JSON that stores keep, the API serves and forwarders send, and back.
// An event is encoded once, on ingest (Batch.Encode, Batch.EventJSON);
// its stored bytes then travel as they are (Event.Raw, StoredJSON).

// NormalTime returns t in the form stores keep: UTC, whole microseconds.
// Every time a store writes passes through it, so a time read back equals
// the one written.
func NormalTime(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

// DecodeEvent reads an event's stored JSON, which is what encoding/json
// (or MarshalEvent) made of an Event. The JSON v2 decoder reads it about
// three times faster than encoding/json (a page of 100 events spends most
// of its time here); anything it rejects (it is stricter, about invalid
// UTF-8 and repeated names for one) is read by encoding/json, so the result
// is always encoding/json's (FuzzDecodeEvent). The event keeps data as its
// Raw, so data must not be reused.
func DecodeEvent(data []byte) (*Event, error) {
	var e Event
	if err := jsonv2.Unmarshal(data, &e); err != nil {
		e = Event{}
		if err := json.Unmarshal(data, &e); err != nil {
			return nil, err
		}
	}
	e.Raw = data
	return &e, nil
}

// DecodeStored rebuilds a stored event from its JSON and its stream
// position pos, which the JSON does not hold. data becomes the event's Raw.
func DecodeStored(pos int64, data []byte) (*Event, error) {
	e, err := DecodeEvent(data)
	if err != nil {
		return nil, fmt.Errorf("decode event at pos %d: %w", pos, err)
	}
	e.Pos = pos
	return e, nil
}

// StoredJSON returns e's JSON as the API serves it: json.Marshal(e), byte
// for byte. For an event read from a store (or just appended) that is its
// stored JSON, e.Raw, with no encoding at all: a webhook body, a syslog
// message and GET /v1/events/{id} carry the very bytes the ledger hashed.
// An event without Raw is encoded.
func StoredJSON(e *Event) ([]byte, error) {
	if e.Raw == nil {
		return MarshalEvent(e)
	}
	return servedJSON(e.Raw)
}

// servedJSON returns an event's stored JSON as json.Marshal writes the
// event decoded from it. That is the stored JSON itself, unless the event
// held invalid UTF-8: json.Marshal wrote each bad byte as the escape
// \ufffd, which decodes to U+FFFD, which json.Marshal writes as is.
func servedJSON(data []byte) ([]byte, error) {
	if !bytes.Contains(data, []byte(`\ufffd`)) {
		return data, nil
	}
	var e Event
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("decode event: %w", err)
	}
	return json.Marshal(&e)
}

// v1Options make the JSON v2 encoder write exactly what encoding/json
// writes (HTML-safe escapes, null for nil slices, the old omitempty).
var v1Options = jsonv1.DefaultOptionsV1()

// MarshalEvent returns e's JSON, byte for byte what json.Marshal(e) gives,
// in about half its time: the stores write it for every event, so ingest
// feels the difference.
func MarshalEvent(e *Event) ([]byte, error) {
	return jsonv2.Marshal(e, v1Options)
}

// MarshalJSON is json.Marshal(v), byte for byte, with the JSON v2 encoder:
// for answers that carry many events, like a page of 100.
func MarshalJSON(v any) ([]byte, error) {
	return jsonv2.Marshal(v, v1Options)
}

// Encode fills b.Encoded with each event's JSON as MarshalEvent gives it
// for Seq 0, after putting the event's times in the form stores keep
// (NormalTime), and notes where in it the Seq goes. A store's single
// writer then only splices in the Seq it assigns (EventJSON), instead of
// encoding every event itself: the HTTP handlers of concurrent requests
// encode in parallel, off the one goroutine that bounds ingest (appends of
// encoded batches run 1.2-1.3x faster, BenchmarkAppendBatches). Events
// must not change after Encode.
func (b *Batch) Encode() error {
	b.Encoded = make([][]byte, len(b.Events))
	b.seqAt = make([]int, len(b.Events))
	for i, e := range b.Events {
		e.OccurredAt, e.ReceivedAt = NormalTime(e.OccurredAt), NormalTime(e.ReceivedAt)
		seq := e.Seq
		e.Seq = 0
		data, err := MarshalEvent(e)
		e.Seq = seq
		if err != nil {
			return fmt.Errorf("event %s: %w", e.ID, err)
		}
		b.Encoded[i], b.seqAt[i] = data, seqOffset(data)
	}
	return nil
}

// EventJSON returns MarshalEvent(b.Events[i]), from b.Encoded when Encode
// filled it: the encoding made there, with the event's Seq spliced in at
// the place Encode noted.
func (b *Batch) EventJSON(i int) ([]byte, error) {
	e := b.Events[i]
	if len(b.Encoded) != len(b.Events) {
		return MarshalEvent(e)
	}
	enc := b.Encoded[i]
	at := -1
	if len(b.seqAt) == len(b.Encoded) {
		at = b.seqAt[i]
	} else {
		at = seqOffset(enc) // Encoded was filled by hand
	}
	if at < 0 {
		return MarshalEvent(e)
	}
	if e.Seq == 0 {
		return enc, nil
	}
	out := make([]byte, 0, len(enc)+19)
	out = append(out, enc[:at]...)
	out = strconv.AppendInt(out, e.Seq, 10)
	return append(out, enc[at+1:]...), nil
}

// seqOffset returns the index of the 0 of Seq in an event's JSON for Seq
// 0, or -1 if the JSON does not start as an Event's does. It reads the
// JSON by position: {"id":<string>,"tenant":<string>,"seq":0, the order
// of Event's fields, so no text inside the id or tenant can mislead it.
func seqOffset(data []byte) int {
	at := 0
	for _, part := range []string{`{"id":`, `,"tenant":`, `,"seq":`} {
		if at > 0 {
			at = skipString(data, at)
		}
		if at < 0 || !bytes.HasPrefix(data[at:], []byte(part)) {
			return -1
		}
		at += len(part)
	}
	if !bytes.HasPrefix(data[at:], []byte("0,")) {
		return -1
	}
	return at
}

// skipString returns the index just past the JSON string that starts at
// data[at], or -1 if there is none.
func skipString(data []byte, at int) int {
	if at >= len(data) || data[at] != '"' {
		return -1
	}
	for i := at + 1; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}
