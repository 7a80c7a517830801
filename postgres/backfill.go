package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/trailhq/trail"
)

// Events stored before migration 0020 (or by a node of an older version
// during an upgrade) have no search tokens, and those stored before
// migration 0026 no pairs (search_pairs NULL). Each node gives them theirs in
// the background, backfillRows at a time, oldest first, skipping rows
// another node is updating; meanwhile searches read them as candidates
// (searchCond), so none is missed, only read more slowly. It runs when the
// store opens and again every maintainEvery, and stops as soon as no event
// is left without tokens and pairs (events_unpaired, a partial index,
// finds them at once).
const backfillRows = 500

// backfillLoop backfills search tokens now and every maintainEvery.
func (db *DB) backfillLoop(ctx context.Context) {
	defer db.wg.Done()
	t := time.NewTicker(maintainEvery)
	defer t.Stop()
	for {
		if !db.noSearch {
			// A failure is tried again at the next tick.
			_ = db.BackfillSearch(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// BackfillSearch writes the search tokens and pairs of every event that
// has none,
// and returns once none is left. The store runs it by itself; it is
// exported for tools and tests.
func (db *DB) BackfillSearch(ctx context.Context) error {
	for {
		n, err := db.backfillBatch(ctx)
		if err != nil {
			return fmt.Errorf("backfill search tokens: %w", wrap(err))
		}
		if n == 0 {
			return nil
		}
	}
}

// backfillBatch gives up to backfillRows events without tokens theirs, in
// one transaction, and returns how many it updated.
func (db *DB) backfillBatch(ctx context.Context) (int, error) {
	n := 0
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, occurred_at, pos, data FROM events WHERE search_pairs IS NULL OR search IS NULL
			ORDER BY occurred_at LIMIT $1 FOR UPDATE SKIP LOCKED`, backfillRows)
		if err != nil {
			return err
		}
		var ids [][16]byte
		var times []time.Time
		var vecs []pgtype.TSVector
		var id [16]byte
		var at time.Time
		var pos int64
		var data string
		_, err = pgx.ForEachRow(rows, []any{&id, &at, &pos, &data}, func() error {
			e, err := trail.DecodeStored(pos, []byte(data))
			if err != nil {
				return err
			}
			ids, times, vecs = append(ids, id), append(times, at), append(vecs, SearchVector(e))
			return nil
		})
		if err != nil || len(ids) == 0 {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE events AS e SET search = u.s, search_pairs = true
			FROM unnest($1::uuid[], $2::timestamptz[], $3::tsvector[]) AS u(id, t, s)
			WHERE e.id = u.id AND e.occurred_at = u.t`, ids, times, vecs)
		n = len(ids)
		return err
	})
	return n, err
}
