package sqlite

import (
	"context"
	"fmt"

	"github.com/trailhq/trail"
)

// searchEvents returns up to q.PageLimit()+1 events of a query with a
// full-text search, in q's order.
func (db *DB) searchEvents(ctx context.Context, q *trail.Query) ([]*trail.Event, error) {
	return trail.ScanSearch(ctx, q, db.Events)
}

// exportSearch is ExportChunk for a query with a full-text search: the
// chunk is a page of the search.
func (db *DB) exportSearch(ctx context.Context, q *trail.Query, maxBytes int, c *trail.Chunk) error {
	evs, err := db.searchEvents(ctx, q)
	if err != nil {
		return fmt.Errorf("export events: %w", err)
	}
	for _, e := range evs {
		if c.Size() >= maxBytes {
			return nil
		}
		data, err := trail.StoredJSON(e)
		if err != nil {
			return fmt.Errorf("export events: %w", err)
		}
		c.Add(data)
	}
	return nil
}
