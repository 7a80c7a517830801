package postgres

import (
	"context"

	"github.com/trailhq/trail"
)

var _ trail.JSONExporter = (*DB)(nil)

// ExportChunk appends to c the stored JSON of the events of q's next
// chunk, in q's order. The chunk is a page of q.Limit+1 events read by
// the page query (the same branches and filters, so an export lists
// exactly what paging would), taking each row's data column as it
// arrives, without decoding it.
//
// Its plan, like a page's, is ordered index scans that start at the
// cursor and stop after the chunk (pageSettings). Before, a generic plan
// made without statistics read every event before the cursor with a
// bitmap scan and sorted them, for every chunk: a long export right after
// ingest slowed down as it went, to under 10,000 events/s.
//
// A chunk always takes the one-step plan, whose ordered scans return the
// events themselves: reading keys first (pagekeys.go) pays off for a cold
// page of a hundred scattered events, while a chunk of thousands reads
// most heap pages it touches anyway.
//
// Like a page, a chunk that finds the database unreachable before it has
// read a row is read again on fresh connections: the first export after a
// restart would otherwise meet the page pool's dead connections.
func (db *DB) ExportChunk(ctx context.Context, q *trail.Query, maxBytes int, c *trail.Chunk) error {
	for try := 0; ; try++ {
		n := c.Len()
		err := db.exportChunk(ctx, q, maxBytes, c)
		switch {
		case err == nil:
			return nil
		case try == 1 || ctx.Err() != nil || c.Len() != n || !isUnavailable(err):
			return pageErr(err)
		}
		db.pages.Reset()
	}
}

func (db *DB) exportChunk(ctx context.Context, q *trail.Query, maxBytes int, c *trail.Chunk) error {
	if q.Search != nil {
		evs, err := db.searchEvents(ctx, q)
		for _, e := range evs {
			if c.Size() >= maxBytes {
				break
			}
			c.Add(e.Raw)
		}
		return err
	}
	p, err := newPlan(ctx, db.pages, q)
	if err != nil {
		return err
	}
	p.byKeys, p.lateral = false, false
	query, args, err := p.sql()
	if err != nil {
		return err
	}
	rows, err := db.pages.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for c.Size() < maxBytes && rows.Next() {
		c.Add(rows.RawValues()[1]) // (pos, data); text arrives as its bytes
	}
	rows.Close()
	return rows.Err()
}
