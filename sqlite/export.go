package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/trailhq/trail"
)

var _ trail.JSONExporter = (*DB)(nil)

// exportFetch is how many events one statement of an export chunk reads
// by position.
const exportFetch = 1000

// ExportChunk appends to c the stored JSON of the events of q's next
// chunk, in q's order, in one read transaction that ends before the caller
// writes anything. It plans the chunk like a page (the same arms and
// filters, so an export lists exactly what paging would). When one query
// reads the whole chunk in order (see plan.run), the events' JSON is
// joined to it; otherwise the chunk's positions are read first, then
// their JSON by position.
func (db *DB) ExportChunk(ctx context.Context, q *trail.Query, maxBytes int, c *trail.Chunk) error {
	err := db.exportChunk(ctx, q, maxBytes, c, false)
	if errors.Is(err, errPostingGone) {
		c.Reset()
		err = db.exportChunk(ctx, q, maxBytes, c, true)
	}
	if err != nil {
		return fmt.Errorf("export events: %w", err)
	}
	return nil
}

func (db *DB) exportChunk(ctx context.Context, q *trail.Query, maxBytes int, c *trail.Chunk, joinEvents bool) error {
	tx, err := db.x.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer rollback(tx)
	p, err := newPlan(ctx, tx, q)
	if err != nil {
		return err
	}
	p.joinEvents = joinEvents
	if p.keyCol != "" {
		return exportJoined(ctx, tx, p, p.postingArms(p.segs), maxBytes, c)
	}
	return exportFetched(ctx, tx, p, maxBytes, c)
}

// exportJoined reads the chunk as the page query of arms with each row's
// JSON joined to it. The outer ORDER BY is the page query's own, which
// SQLite satisfies from the subquery's order without sorting.
func exportJoined(ctx context.Context, tx *sql.Tx, p *plan, arms []arm, maxBytes int, c *trail.Chunk) error {
	query, args := p.sql(arms)
	if query == "" {
		return nil
	}
	rs, err := tx.QueryContext(ctx, "SELECT e.data FROM ("+query+") AS x CROSS JOIN events AS e ON e.pos = x.pos ORDER BY "+
		p.order(), args...)
	if err != nil {
		return err
	}
	defer rs.Close()
	for c.Size() < maxBytes && rs.Next() {
		var data sql.RawBytes
		if err := rs.Scan(&data); err != nil {
			return err
		}
		c.Add(data)
	}
	return rs.Err()
}

// exportFetched reads the chunk's positions as a page in time order over
// posting segments is read (see plan.run), then their JSON by position.
func exportFetched(ctx context.Context, tx *sql.Tx, p *plan, maxBytes int, c *trail.Chunk) error {
	rows, err := p.run(ctx, tx)
	if err != nil {
		return err
	}
	f := exportFetcher{c: c}
	for len(rows) > 0 && c.Size() < maxBytes {
		n := min(len(rows), exportFetch)
		if err := f.fetch(ctx, tx, rows[:n]); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// exportFetcher reads the JSON of events by position into a chunk, in the
// order asked, whatever order SQLite returns them in.
type exportFetcher struct {
	c    *trail.Chunk
	list []byte      // the positions as a JSON array, for json_each
	got  trail.Chunk // events as they arrive
	slot []int       // slot[i]: index in got of the i'th position, or -1
}

// fetch appends the JSON of the events at rows' positions to f.c.
func (f *exportFetcher) fetch(ctx context.Context, tx *sql.Tx, rows []row) error {
	f.list = append(f.list[:0], '[')
	for i, r := range rows {
		if i > 0 {
			f.list = append(f.list, ',')
		}
		f.list = strconv.AppendInt(f.list, r.pos, 10)
	}
	f.list = append(f.list, ']')
	// json_each drives the join in the list's order, so the events arrive
	// in page order; key says which position each row is, should they not.
	rs, err := tx.QueryContext(ctx, "SELECT j.key, e.data FROM json_each(?) AS j CROSS JOIN events AS e ON e.pos = j.value",
		string(f.list))
	if err != nil {
		return err
	}
	defer rs.Close()
	f.got.Reset()
	f.slot = f.slot[:0]
	for range rows {
		f.slot = append(f.slot, -1)
	}
	for rs.Next() {
		var key int
		var data sql.RawBytes
		if err := rs.Scan(&key, &data); err != nil {
			return err
		}
		if key < 0 || key >= len(rows) || f.slot[key] >= 0 {
			return fmt.Errorf("export: unexpected position index %d", key)
		}
		f.slot[key] = f.got.Len()
		f.got.Add(data)
	}
	if err := rs.Err(); err != nil {
		return err
	}
	for i, s := range f.slot {
		if s < 0 {
			return fmt.Errorf("event at pos %d: %w", rows[i].pos, errPostingGone)
		}
		f.c.Add(f.got.Event(s))
	}
	return nil
}
