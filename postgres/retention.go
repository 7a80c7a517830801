package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/trailhq/trail"
)

var (
	_ trail.RetentionStore   = (*DB)(nil)
	_ trail.PartitionDropper = (*DB)(nil)
)

// RetentionEnd returns the first Seq >= from of tenant's log whose event
// is not past cutoff, or the log's size. Adding a zero interval keeps the
// planner off the time index, so that it walks the log in Seq order and
// reads only the expired events before the answer.
func (db *DB) RetentionEnd(ctx context.Context, tenant string, from int64, cutoff time.Time) (int64, error) {
	var seq int64
	err := db.pool.QueryRow(ctx, `SELECT seq FROM events WHERE tenant = $1 AND seq >= $2
		AND occurred_at + interval '0 seconds' >= $3 ORDER BY seq LIMIT 1`, tenant, from, cutoff).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
		err = db.pool.QueryRow(ctx, "SELECT coalesce(max(next_seq), 0) FROM tenant_seqs WHERE tenant = $1", tenant).Scan(&seq)
	}
	if err != nil {
		return 0, fmt.Errorf("find retention end: %w", wrap(err))
	}
	return max(seq, from), nil
}

// heldSQL is true for an event row e that a legal hold covers.
const heldSQL = `EXISTS (SELECT 1 FROM legal_holds h WHERE h.tenant = e.tenant AND (
	h.kind = 'tenant'
	OR (h.kind = 'time_range' AND e.occurred_at >= h.since AND e.occurred_at < h.until)
	OR (h.kind = 'target' AND EXISTS (SELECT 1 FROM event_targets t WHERE t.tenant = e.tenant
		AND t.type = h.target_type AND t.id = h.target_id AND t.occurred_at = e.occurred_at AND t.event_id = e.id))))`

// DeleteEvents deletes the unheld events among up to limit events of
// tenant's log with Seq in [from, before), in one transaction.
func (db *DB) DeleteEvents(ctx context.Context, tenant string, from, before int64, limit int) (int64, int64, error) {
	var deleted int64
	next := before
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT e.seq, e.data, `+heldSQL+` FROM events e
			WHERE e.tenant = $1 AND e.seq >= $2 AND e.seq < $3 ORDER BY e.seq LIMIT $4`, tenant, from, before, limit)
		if err != nil {
			return err
		}
		var doomed []*trail.Event
		examined := 0
		var seq int64
		var data string
		var held bool
		_, err = pgx.ForEachRow(rows, []any{&seq, &data, &held}, func() error {
			if examined++; examined == limit {
				next = seq + 1
			}
			if held {
				return nil
			}
			e, err := trail.DecodeStored(0, []byte(data))
			doomed = append(doomed, e)
			return err
		})
		if err != nil {
			return err
		}
		deleted = int64(len(doomed))
		return deleteEventRows(ctx, tx, doomed)
	})
	if err != nil {
		return 0, 0, fmt.Errorf("delete events: %w", wrap(err))
	}
	return deleted, next, nil
}

// deleteEventRows deletes events with their id rows and rows of the
// per-entity view, in one round trip.
func deleteEventRows(ctx context.Context, tx pgx.Tx, evs []*trail.Event) error {
	b := &pgx.Batch{}
	for _, e := range evs {
		b.Queue("DELETE FROM events WHERE id = $1 AND occurred_at = $2", e.ID, e.OccurredAt)
		b.Queue("DELETE FROM event_ids WHERE id = $1", e.ID)
		for _, t := range e.Targets {
			b.Queue(`DELETE FROM event_targets WHERE tenant = $1 AND type = $2 AND id = $3
				AND occurred_at = $4 AND event_id = $5`, e.Tenant, t.Type, t.ID, e.OccurredAt, e.ID)
		}
	}
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, b).Close()
}

// DropPrunedPartitions drops each month of events (and of the per-entity
// view) that ends at or before before and whose every row lies below its
// log's pruned end with no hold on it. Each month is checked and dropped
// in one transaction that first locks the partition, so that no event can
// arrive in it between the check and the drop.
func (db *DB) DropPrunedPartitions(ctx context.Context, before time.Time, ends map[string]int64) (map[string]int64, error) {
	months, err := db.Partitions(ctx)
	if err != nil {
		return nil, err
	}
	tenants := make([]string, 0, len(ends))
	seqs := make([]int64, 0, len(ends))
	for t, end := range ends {
		tenants, seqs = append(tenants, t), append(seqs, end)
	}
	dropped := map[string]int64{}
	for _, m := range months {
		if m.AddDate(0, 1, 0).After(before) {
			continue
		}
		counts, err := db.dropIfPruned(ctx, m, tenants, seqs)
		if err != nil {
			return dropped, fmt.Errorf("drop partition %s: %w", PartitionName("events", m), wrap(err))
		}
		for t, n := range counts {
			dropped[t] += n
		}
	}
	if len(dropped) > 0 {
		db.parts.forget()
	}
	return dropped, nil
}

// dropIfPruned drops month m's partitions when all their rows may go, and
// returns the rows dropped per tenant (nil when it kept the month).
func (db *DB) dropIfPruned(ctx context.Context, m time.Time, tenants []string, ends []int64) (map[string]int64, error) {
	events := pgx.Identifier{PartitionName("events", m)}.Sanitize()
	targets := pgx.Identifier{PartitionName("event_targets", m)}.Sanitize()
	var counts map[string]int64
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(partitionLock)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "LOCK TABLE "+events+", "+targets+" IN SHARE ROW EXCLUSIVE MODE"); err != nil {
			return err
		}
		c, keep, err := partitionVerdict(ctx, tx, events, tenants, ends)
		if err != nil || keep || len(c) == 0 {
			return err
		}
		for _, q := range []string{
			"DELETE FROM event_ids WHERE id IN (SELECT id FROM " + events + ")",
			"DROP TABLE " + targets,
			"DROP TABLE " + events,
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		counts = c
		return nil
	})
	return counts, err
}

// partitionVerdict counts a partition's rows per tenant and reports
// whether any of them must stay: past its log's pruned end, of a log with
// no end, or held.
func partitionVerdict(ctx context.Context, tx pgx.Tx, events string, tenants []string, ends []int64) (map[string]int64, bool, error) {
	rows, err := tx.Query(ctx, `SELECT e.tenant, count(*), bool_or(p.end_seq IS NULL OR e.seq >= p.end_seq OR `+heldSQL+`)
		FROM `+events+` e LEFT JOIN unnest($1::text[], $2::bigint[]) AS p(tenant, end_seq) ON p.tenant COLLATE "C" = e.tenant
		GROUP BY e.tenant`, tenants, ends)
	if err != nil {
		return nil, false, err
	}
	counts := map[string]int64{}
	keep := false
	var tenant string
	var n int64
	var k bool
	_, err = pgx.ForEachRow(rows, []any{&tenant, &n, &k}, func() error {
		counts[tenant] = n
		keep = keep || k
		return nil
	})
	return counts, keep, err
}
