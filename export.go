package trail

import (
	"context"
	"fmt"
)

// Export chunk sizes: a chunk is read in one short read transaction, then
// written out while the store is free, so neither a slow client nor a
// large export keeps a snapshot open (a long SQLite reader stops the WAL
// from being reset). The byte bound keeps memory flat for large events.
const (
	exportChunkRows  = 8192
	exportChunkBytes = 4 << 20
	exportMinRows    = 64
)

// JSONExporter is an EventStore that reads an export in large chunks of
// the events' stored JSON, so that an export neither decodes every event
// nor re-runs a page query every thousand events. ExportJSON uses it when
// a store offers it.
type JSONExporter interface {
	// ExportChunk fills c, which the caller has reset, with the stored
	// JSON of the events that match q
	// and follow q.After, in q's order: q.Limit+1 events at most (the last
	// only tells that more follow), and fewer once c holds maxBytes. Each
	// event's JSON is exactly what json.Marshal made of its Event when it
	// was appended. The store finishes its read before it returns.
	ExportChunk(ctx context.Context, q *Query, maxBytes int, c *Chunk) error
}

// Chunk is the stored JSON of consecutive events of an export, kept in one
// buffer that is reused from chunk to chunk.
type Chunk struct {
	buf  []byte
	ends []int
}

// Add appends one event's JSON.
func (c *Chunk) Add(data []byte) {
	c.buf = append(c.buf, data...)
	c.ends = append(c.ends, len(c.buf))
}

// Len returns how many events c holds.
func (c *Chunk) Len() int { return len(c.ends) }

// Size returns how many bytes of JSON c holds.
func (c *Chunk) Size() int { return len(c.buf) }

// Event returns the JSON of the i'th event; it is valid until c is reset.
func (c *Chunk) Event(i int) []byte {
	start := 0
	if i > 0 {
		start = c.ends[i-1]
	}
	return c.buf[start:c.ends[i]:c.ends[i]]
}

// Reset empties c and keeps its memory.
func (c *Chunk) Reset() {
	c.buf, c.ends = c.buf[:0], c.ends[:0]
}

// ExportJSON calls fn with the JSON of every event matching q, in q's
// order: the bytes json.Marshal gives for the Event. fn must not keep the
// slice. It reads chunk by chunk from a JSONExporter, reading the next
// chunk while fn works through the last, and page by page from any other
// store. q.After and q.Limit are ignored.
func ExportJSON(ctx context.Context, s EventStore, q Query, fn func(data []byte) error) error {
	return exportJSON(ctx, s, q, chunkSize{exportChunkRows, exportChunkBytes}, fn)
}

// chunkSize bounds the chunks of an export: at most rows events, and
// about bytes of JSON.
type chunkSize struct{ rows, bytes int }

func exportJSON(ctx context.Context, s EventStore, q Query, size chunkSize, fn func(data []byte) error) error {
	x, ok := s.(JSONExporter)
	if !ok {
		return ExportEvents(ctx, s, q, func(e *Event) error {
			b, err := StoredJSON(e)
			if err != nil {
				return err
			}
			return fn(b)
		})
	}
	ctx, cancel := context.WithCancel(ctx)
	r := &chunkReader{x: x, q: q, size: size, full: make(chan *readChunk, 1), free: make(chan *readChunk, 2)}
	r.free <- &readChunk{}
	r.free <- &readChunk{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.run(ctx)
	}()
	err := r.emit(ctx, fn)
	cancel()
	<-done // the store is not used after ExportJSON returns
	return err
}

// chunkReader reads an export's chunks ahead of the writer: two chunks
// take turns, one being read while the other is written.
type chunkReader struct {
	x    JSONExporter
	q    Query
	size chunkSize
	full chan *readChunk // read, in order; closed after the last
	free chan *readChunk // written, ready for reuse
}

// readChunk is one chunk of an export: its first n events are the
// export's, or err is why reading stopped.
type readChunk struct {
	Chunk
	n   int
	err error
}

func (r *chunkReader) run(ctx context.Context) {
	defer close(r.full)
	q := r.q
	q.After, q.Limit = nil, r.size.rows
	for {
		var c *readChunk
		select {
		case c = <-r.free:
		case <-ctx.Done():
			return
		}
		more := r.read(ctx, &q, c)
		select {
		case r.full <- c:
		case <-ctx.Done():
			return
		}
		if !more {
			return
		}
	}
}

// read reads the chunk of q into c, moves q past it, and reports whether
// more may follow.
func (r *chunkReader) read(ctx context.Context, q *Query, c *readChunk) bool {
	c.Reset()
	c.n = 0
	if c.err = r.x.ExportChunk(ctx, q, r.size.bytes, &c.Chunk); c.err != nil {
		return false
	}
	n, more := c.Len(), c.Size() >= r.size.bytes
	if n > q.Limit {
		n, more = q.Limit, true
	}
	c.n = n
	if !more || n == 0 {
		return false
	}
	q.After, c.err = cursorAfterJSON(q, c.Event(n-1))
	q.Limit = r.size.next(c.Size(), c.Len())
	return c.err == nil
}

// emit calls fn for the events of each chunk as it arrives.
func (r *chunkReader) emit(ctx context.Context, fn func([]byte) error) error {
	for c := range r.full {
		for i := range c.n {
			data, err := servedJSON(c.Event(i))
			if err == nil {
				err = fn(data)
			}
			if err != nil {
				return err
			}
		}
		if c.err != nil {
			return c.err
		}
		r.free <- c
	}
	return ctx.Err()
}

// cursorAfterJSON returns the cursor after the event whose JSON is data.
func cursorAfterJSON(q *Query, data []byte) (*Cursor, error) {
	e, err := DecodeEvent(data)
	if err != nil {
		return nil, fmt.Errorf("export: decode event: %w", err)
	}
	return CursorAfter(q, e), nil
}

// next sizes the next chunk from the last one's average event, so that a
// chunk of large events stays near z.bytes. Limits are halvings of
// z.rows, so that stores see few distinct ones (PostgreSQL's page query
// writes its limit into the SQL).
func (z chunkSize) next(size, n int) int {
	rows := z.rows
	for rows > exportMinRows && rows*(size/max(n, 1)) > z.bytes {
		rows /= 2
	}
	return rows
}
