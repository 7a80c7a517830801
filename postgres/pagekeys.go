package postgres

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/trailhq/trail"
)

// A filter on a target or an actor selects events scattered over the whole
// table: one actor's hundred newest events sit on a hundred heap pages, a
// target's on as many pages in up to thirteen monthly partitions. Read row
// by row from an index scan, a cold page costs one random read after
// another, since an index scan never reads ahead. Such a page is read in two
// steps instead:
//
//  1. its keys (occurred_at, id), from index-only scans of the filter's
//     index, merged and cut to a page as usual (a target's in a few time
//     slices at once, see slices): the index entries of one actor or target
//     are adjacent, so this reads few pages;
//  2. its events, by primary key, with bitmap heap scans, which ask the
//     kernel for the heap pages ahead of reading them
//     (effective_io_concurrency, see pageSettings), in a few runs of keys
//     at once (fetchChunks), so the page's random reads overlap instead of
//     queueing.
//
// Filters whose events are adjacent in the heap (time, action, the newest
// page) keep the one-step plan, whose ordered index scan reads the few heap
// pages of a page in a row.

// scattered reports whether the page is read by keys: it filters on a
// target, or on exactly one indexed actor or context column and nothing
// else, sorted by time, so that an index alone yields its keys.
func (p *plan) scattered() bool {
	q := p.q
	if p.keyCol != "" || q.Search != nil {
		return false // a search reads each event's tokens
	}
	if p.target {
		return !p.needsEvent()
	}
	n := 0
	for _, v := range []string{q.ActorType, q.ActorID, q.ActorName, q.TraceID, q.IP} {
		if v != "" {
			n++
		}
	}
	return n == 1 && p.actions.all()
}

// fetchSQL reads the events of a page's keys in one month's partition,
// named in the statement. It reads the partition, not events with a time
// range: a generic plan of the range query, made while a partition was
// small or empty (a page connection plans it when it opens), took the
// partition's time index with the ids as a filter, and so read every event
// between a scattered page's oldest and newest key: 250 ms for an actor's
// three events, until the connection closed. Named, the partition offers
// its primary key alone for an id list.
func fetchSQL(month time.Time) string {
	return "SELECT id, pos, data FROM " + pgx.Identifier{PartitionName("events", month)}.Sanitize() +
		" WHERE id = ANY($1::uuid[])"
}

// eventsByKeys reads the page of p, a page by keys, and returns its events
// in page order.
func eventsByKeys(ctx context.Context, db batchQuerier, p *plan, now time.Time) ([]*trail.Event, error) {
	keys, err := readKeys(ctx, db, p.slices(now))
	if err != nil || len(keys) == 0 {
		return []*trail.Event{}, err
	}
	return eventsOf(ctx, db, keys)
}

// eventsOf reads the events of keys and returns them in the keys' order;
// an event deleted meanwhile is left out.
func eventsOf(ctx context.Context, db batchQuerier, keys []pageKey) ([]*trail.Event, error) {
	rowsOf, err := fetchChunks(ctx, db, keys)
	if err != nil {
		return nil, err
	}
	evs := make([]*trail.Event, 0, len(keys))
	for _, k := range keys {
		r, ok := rowsOf[k.ID]
		if !ok {
			continue // deleted by retention between the two steps
		}
		e, err := trail.DecodeStored(r.pos, []byte(r.data))
		if err != nil {
			return nil, err
		}
		evs = append(evs, e)
	}
	return evs, nil
}

// batchQuerier is what both *pgxpool.Pool and *pgxpool.Conn offer.
type batchQuerier interface {
	querier
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// Each bitmap heap scan prefetches only within its partition, and the
// primary key lookups before it read one index page after another. A
// target's page spans a year of partitions, a few events in each, so its
// events are read in up to maxChunks runs of adjacent keys at once, each on
// its own connection: a run touches fewer partitions, and the runs' reads
// overlap. A page within a few months (an actor's newest events) prefetches
// well in one scan, and is read in one run: more runs would only cost
// processor time.
const (
	maxChunks      = 4
	monthsPerChunk = 3
)

// fetchChunks reads the events of keys in concurrent runs of adjacent keys
// and returns them by id.
func fetchChunks(ctx context.Context, db batchQuerier, keys []pageKey) (map[[16]byte]storedEvent, error) {
	n := min(maxChunks, (months(keys)+monthsPerChunk-1)/monthsPerChunk)
	if n <= 1 {
		return fetchEvents(ctx, db, keys)
	}
	parts := make([]map[[16]byte]storedEvent, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		chunk := keys[i*len(keys)/n : (i+1)*len(keys)/n]
		wg.Go(func() { parts[i], errs[i] = fetchEvents(ctx, db, chunk) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, p := range parts[1:] {
		maps.Copy(parts[0], p)
	}
	return parts[0], nil
}

// A target's keys are in every month, and each month's index-only scan
// reads a leaf of its own, one after another. So a target's page reads
// its keys in keySlices time ranges at once, of sliceMonths months each
// back from now (the last one open to the past), and merges them.
const (
	keySlices   = 4
	sliceMonths = 3
)

// slices returns the plans whose keys, merged, are the keys of p's page:
// p itself, or for a target, p in each time slice that q's range meets.
func (p *plan) slices(now time.Time) []*plan {
	if !p.target {
		return []*plan{p}
	}
	var out []*plan
	hi := time.Time{} // zero: no bound
	for i := 1; i <= keySlices; i++ {
		lo := time.Time{}
		if i < keySlices {
			lo = monthOf(now).AddDate(0, -sliceMonths*i, 0)
		}
		q := *p.q
		if q.Since.IsZero() || lo.After(q.Since) {
			q.Since = lo
		}
		if q.Until.IsZero() || !hi.IsZero() && hi.Before(q.Until) {
			q.Until = hi
		}
		if q.Since.IsZero() || q.Until.IsZero() || q.Since.Before(q.Until) {
			s := *p
			s.q = &q
			out = append(out, &s)
		}
		hi = lo
	}
	return out
}

// readKeys reads the keys of each plan at once and returns the first page
// plus one of them, in page order.
func readKeys(ctx context.Context, db batchQuerier, plans []*plan) ([]pageKey, error) {
	parts := make([][]pageKey, len(plans))
	errs := make([]error, len(plans))
	var wg sync.WaitGroup
	for i, p := range plans {
		wg.Go(func() {
			query, args, err := p.sql()
			if err != nil {
				errs[i] = err
				return
			}
			rows, err := db.Query(ctx, query, args...)
			if err == nil {
				parts[i], err = pgx.CollectRows(rows, pgx.RowToStructByPos[pageKey])
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	keys := slices.Concat(parts...)
	if len(parts) > 1 {
		q := plans[0].q
		slices.SortFunc(keys, func(a, b pageKey) int {
			c := cmp.Or(a.OccurredAt.Compare(b.OccurredAt), bytes.Compare(a.ID[:], b.ID[:]))
			if q.Desc {
				return -c
			}
			return c
		})
		keys = keys[:min(len(keys), q.PageLimit()+1)]
	}
	return keys, nil
}

// months counts the months (partitions) that keys, in page order, span.
func months(keys []pageKey) int {
	n := 0
	var last time.Time
	for _, k := range keys {
		if m := monthOf(k.OccurredAt); !m.Equal(last) {
			n, last = n+1, m
		}
	}
	return n
}

// pageKey is one event of a page, as its index names it.
type pageKey struct {
	OccurredAt time.Time
	ID         [16]byte
}

type storedEvent struct {
	pos  int64
	data string
}

// Settings around fetchSQL. The planner would read a hundred ids with an
// index scan per id, which fetches heap pages one at a time, or, while a
// partition is small, scan it whole; with both disabled it takes a bitmap
// heap scan, which prefetches the pages. A generic plan made under these
// settings is kept with the statement.
// (Page connections disable bitmap scans for every other query, see
// pageSettings.)
const bitmapOnly = "SELECT set_config('enable_indexscan', 'off', false), set_config('enable_seqscan', 'off', false), " +
	"set_config('enable_bitmapscan', 'on', false)"

// bitmapReset undoes bitmapOnly, back to the connection's settings.
var bitmapReset = []string{"RESET enable_indexscan", "RESET enable_seqscan", "RESET enable_bitmapscan"}

// fetchEvents reads the events of keys, by id, in one bitmap heap scan per
// month. The settings are undone in the same round trip, and with the
// implicit transaction if the query fails. A month whose partition
// retention dropped between the two steps has no events left to read.
func fetchEvents(ctx context.Context, db batchQuerier, keys []pageKey) (map[[16]byte]storedEvent, error) {
	byMonth := keysByMonth(keys)
	out := make(map[[16]byte]storedEvent, len(keys))
	err := readMonths(ctx, db, byMonth, out)
	if err == nil || !isUndefinedTable(err) {
		return out, err
	}
	for m, ids := range byMonth {
		one := map[time.Time][][16]byte{m: ids}
		if err := readMonths(ctx, db, one, out); err != nil && !isUndefinedTable(err) {
			return nil, err
		}
	}
	return out, nil
}

// readMonths reads the events of ids, by month, into out.
func readMonths(ctx context.Context, db batchQuerier, ids map[time.Time][][16]byte, out map[[16]byte]storedEvent) error {
	br := db.SendBatch(ctx, fetchBatch(ids))
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return err
	}
	for range ids {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		var id [16]byte
		var r storedEvent
		_, err = pgx.ForEachRow(rows, []any{&id, &r.pos, &r.data}, func() error {
			out[id] = r
			return nil
		})
		if err != nil {
			return fmt.Errorf("read page events: %w", err)
		}
	}
	return br.Close()
}

func isUndefinedTable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "42P01"
}

// keysByMonth groups the ids of keys by the month they occurred in.
func keysByMonth(keys []pageKey) map[time.Time][][16]byte {
	out := map[time.Time][][16]byte{}
	for _, k := range keys {
		m := monthOf(k.OccurredAt)
		out[m] = append(out[m], k.ID)
	}
	return out
}

// fetchBatch reads ids, by month, under bitmapOnly.
func fetchBatch(ids map[time.Time][][16]byte) *pgx.Batch {
	b := &pgx.Batch{}
	b.Queue(bitmapOnly)
	for m, list := range ids {
		b.Queue(fetchSQL(m), list)
	}
	for _, r := range bitmapReset {
		b.Queue(r)
	}
	return b
}

// openPagePool opens the pool of page queries. The first query on events
// over a connection opens every partition of events and its indexes, which
// costs a new server process 10 ms or more; a page by keys uses up to
// maxChunks connections at once, so a pool that grew for it would pay that
// on several connections in the middle of a page. So each new connection
// plans a query on events and event_targets before its first use (one that
// reads nothing), and the pool opens maxChunks connections at once and
// keeps them (unless the URL sets pool_min_conns).
func openPagePool(ctx context.Context, dsn string) (*pgxpool.Pool, error) {
	pool, err := newPool(ctx, dsn, pageSettings, func(dsn string, cfg *pgxpool.Config) {
		if !strings.Contains(dsn, "pool_min_conns") {
			cfg.MinConns = min(maxChunks, cfg.MaxConns)
		}
		cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
			epoch := time.Unix(0, 0)
			b := &pgx.Batch{}
			b.Queue("SELECT 1 FROM events WHERE occurred_at < $1 LIMIT 1", epoch)
			b.Queue("SELECT 1 FROM event_targets WHERE occurred_at < $1 LIMIT 1", epoch)
			return conn.SendBatch(ctx, b).Close()
		}
	})
	if err != nil {
		return nil, err
	}
	n := int(min(maxChunks, pool.Config().MaxConns))
	conns := make([]*pgxpool.Conn, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { conns[i], errs[i] = pool.Acquire(ctx) })
	}
	wg.Wait()
	for _, c := range conns {
		if c != nil {
			c.Release()
		}
	}
	if err := errors.Join(errs...); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
