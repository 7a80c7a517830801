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
	if p.keyCol != "" {
		return false
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

// fetchSQL reads the events of a page's keys. The time range lets the
// executor skip the months the page does not touch.
const fetchSQL = `SELECT id, pos, data FROM events
	WHERE id = ANY($1::uuid[]) AND occurred_at >= $2 AND occurred_at <= $3`

// eventsByKeys reads the page of p, a page by keys, and returns its events
// in page order.
func eventsByKeys(ctx context.Context, db batchQuerier, p *plan, now time.Time) ([]*trail.Event, error) {
	keys, err := readKeys(ctx, db, p.slices(now))
	if err != nil || len(keys) == 0 {
		return []*trail.Event{}, err
	}
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
		e, err := decodeEvent(r.pos, r.data)
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
const bitmapOnly = "SELECT set_config('enable_indexscan', 'off', false), set_config('enable_seqscan', 'off', false)"

// bitmapReset undoes bitmapOnly.
var bitmapReset = []string{"RESET enable_indexscan", "RESET enable_seqscan"}

// fetchEvents reads the events of keys, by id, in one bitmap heap scan per
// partition. The settings are undone in the same round trip, and with the
// implicit transaction if the query fails.
func fetchEvents(ctx context.Context, db batchQuerier, keys []pageKey) (map[[16]byte]storedEvent, error) {
	br := db.SendBatch(ctx, fetchBatch(fetchArgs(keys)))
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	out := make(map[[16]byte]storedEvent, len(keys))
	var id [16]byte
	var r storedEvent
	_, err = pgx.ForEachRow(rows, []any{&id, &r.pos, &r.data}, func() error {
		out[id] = r
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read page events: %w", err)
	}
	return out, br.Close()
}

// fetchBatch runs fetchSQL with args under bitmapOnly.
func fetchBatch(args []any) *pgx.Batch {
	b := &pgx.Batch{}
	b.Queue(bitmapOnly)
	b.Queue(fetchSQL, args...)
	for _, r := range bitmapReset {
		b.Queue(r)
	}
	return b
}

// openPagePool opens the pool of page queries. Planning fetchSQL first on a
// connection opens every partition of events and its indexes, which costs
// a new server process 10 ms or more; a page by keys uses up to maxChunks
// connections at once, so a pool that grew for it would pay that on several
// connections in the middle of a page. So each new connection plans
// fetchSQL before its first use (with no ids and a time range before every
// partition, so it reads nothing), and the pool opens maxChunks connections
// at once and keeps them (unless the URL sets pool_min_conns).
func openPagePool(ctx context.Context, dsn string) (*pgxpool.Pool, error) {
	pool, err := newPool(ctx, dsn, pageSettings, func(dsn string, cfg *pgxpool.Config) {
		if !strings.Contains(dsn, "pool_min_conns") {
			cfg.MinConns = min(maxChunks, cfg.MaxConns)
		}
		cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
			epoch := time.Unix(0, 0)
			b := fetchBatch([]any{[][16]byte{}, epoch, epoch})
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

// fetchArgs are the arguments of fetchSQL for keys: their ids and the time
// range they span.
func fetchArgs(keys []pageKey) []any {
	ids := make([][16]byte, len(keys))
	lo, hi := keys[0].OccurredAt, keys[0].OccurredAt
	for i, k := range keys {
		ids[i] = k.ID
		lo, hi = minTime(lo, k.OccurredAt), maxTime(hi, k.OccurredAt)
	}
	return []any{ids, lo, hi}
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
