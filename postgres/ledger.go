package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/trailhq/trail"
)

var _ trail.LedgerStore = (*DB)(nil)

// LedgerStream returns up to limit stored events with Pos > after, in Pos
// order, undecoded.
func (db *DB) LedgerStream(ctx context.Context, after int64, limit int) ([]trail.LedgerEntry, error) {
	rows, err := db.pool.Query(ctx, "SELECT pos, tenant, seq, data FROM events WHERE pos > $1 ORDER BY pos LIMIT $2",
		after, trail.PageSize(limit))
	if err != nil {
		return nil, fmt.Errorf("read ledger stream: %w", wrap(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (trail.LedgerEntry, error) {
		var e trail.LedgerEntry
		var data string
		err := r.Scan(&e.Pos, &e.Tenant, &e.Seq, &data)
		e.Data = []byte(data)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("read ledger stream: %w", wrap(err))
	}
	return out, nil
}

// LedgerHead returns the head of tenant's log, or ENOTFOUND.
func (db *DB) LedgerHead(ctx context.Context, tenant string) (*trail.LedgerHead, error) {
	h := &trail.LedgerHead{Tenant: tenant}
	err := db.pool.QueryRow(ctx, "SELECT size, checkpoint, updated_at FROM ledger_heads WHERE tenant = $1",
		tenant).Scan(&h.Size, &h.Checkpoint, &h.UpdatedAt)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, trail.Errorf(trail.ENOTFOUND, "log %q has no checkpoint yet", tenant)
	case err != nil:
		return nil, fmt.Errorf("read ledger head: %w", wrap(err))
	}
	h.UpdatedAt = h.UpdatedAt.UTC()
	return h, nil
}

// LedgerHeads returns the head of every log, ordered by tenant.
func (db *DB) LedgerHeads(ctx context.Context) ([]*trail.LedgerHead, error) {
	rows, err := db.pool.Query(ctx, "SELECT tenant, size, checkpoint, updated_at FROM ledger_heads ORDER BY tenant")
	if err != nil {
		return nil, fmt.Errorf("list ledger heads: %w", wrap(err))
	}
	heads, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*trail.LedgerHead, error) {
		h := &trail.LedgerHead{}
		err := r.Scan(&h.Tenant, &h.Size, &h.Checkpoint, &h.UpdatedAt)
		h.UpdatedAt = h.UpdatedAt.UTC()
		return h, err
	})
	if err != nil {
		return nil, fmt.Errorf("list ledger heads: %w", wrap(err))
	}
	if heads == nil {
		heads = []*trail.LedgerHead{}
	}
	return heads, nil
}

// LedgerTiles returns the stored tiles among ids of tenant's log.
func (db *DB) LedgerTiles(ctx context.Context, tenant string, ids []trail.LedgerTileID) ([]*trail.LedgerTile, error) {
	levels, idxs := make([]int32, len(ids)), make([]int64, len(ids))
	for i, id := range ids {
		levels[i], idxs[i] = int32(id.Level), id.Index
	}
	rows, err := db.pool.Query(ctx, `SELECT level, idx, hashes FROM ledger_tiles
		WHERE tenant = $1 AND (level, idx) IN (SELECT * FROM unnest($2::smallint[], $3::bigint[]))`,
		tenant, levels, idxs)
	if err != nil {
		return nil, fmt.Errorf("read ledger tiles: %w", wrap(err))
	}
	tiles, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*trail.LedgerTile, error) {
		t := &trail.LedgerTile{}
		var level int16
		err := r.Scan(&level, &t.Index, &t.Hashes)
		t.Level = int(level)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("read ledger tiles: %w", wrap(err))
	}
	return tiles, nil
}

// CommitLedger stores one round of integration in one transaction, or
// returns ECONFLICT when the cursor moved since c.After. Under READ
// COMMITTED a second sequencer's cursor update waits for the first and
// then finds the cursor moved, so two rounds never both commit.
func (db *DB) CommitLedger(ctx context.Context, c *trail.LedgerCommit) error {
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "UPDATE stream_cursors SET pos = $1 WHERE name = $2 AND pos = $3",
			c.Cursor, trail.CursorLedger, c.After)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return trail.Errorf(trail.ECONFLICT, "the ledger cursor moved: another sequencer is running")
		}
		b := &pgx.Batch{}
		for _, h := range c.Heads {
			b.Queue(`INSERT INTO ledger_heads (tenant, size, checkpoint, updated_at) VALUES ($1, $2, $3, $4)
				ON CONFLICT (tenant) DO UPDATE SET size = excluded.size, checkpoint = excluded.checkpoint,
				updated_at = excluded.updated_at`, h.Tenant, h.Size, h.Checkpoint, h.UpdatedAt)
		}
		for tenant, tiles := range c.Tiles {
			for _, t := range tiles {
				b.Queue(`INSERT INTO ledger_tiles (tenant, level, idx, hashes) VALUES ($1, $2, $3, $4)
					ON CONFLICT (tenant, level, idx) DO UPDATE SET hashes = excluded.hashes`,
					tenant, int16(t.Level), t.Index, t.Hashes)
			}
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("commit ledger: %w", wrap(err))
	}
	return nil
}

// LedgerRows returns up to limit stored events of tenant's log with a
// stored seq >= from, with the seq each is stored under and any
// disagreement between its columns and its JSON.
func (db *DB) LedgerRows(ctx context.Context, tenant string, from int64, limit int) ([]trail.LedgerRow, error) {
	rows, err := db.pool.Query(ctx, `SELECT seq, pos, id::text, tenant, action, occurred_at, received_at,
		actor_type, actor_id, actor_name, ip, trace_id, data
		FROM events WHERE tenant = $1 AND seq >= $2 ORDER BY seq, pos LIMIT $3`, tenant, from, trail.PageSize(limit))
	if err != nil {
		return nil, fmt.Errorf("read log rows: %w", wrap(err))
	}
	defer rows.Close()
	out := []trail.LedgerRow{}
	for rows.Next() {
		var seq, pos int64
		var c rowColumns
		var data string
		err := rows.Scan(&seq, &pos, &c.id, &c.tenant, &c.action, &c.occurredAt, &c.receivedAt,
			&c.actorType, &c.actorID, &c.actorName, &c.ip, &c.traceID, &data)
		if err != nil {
			return nil, fmt.Errorf("read log rows: %w", wrap(err))
		}
		e, err := trail.DecodeStored(pos, []byte(data))
		if err != nil {
			return nil, err
		}
		out = append(out, trail.LedgerRow{Seq: seq, Event: e, Data: []byte(data), Conflict: c.conflict(e)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read log rows: %w", wrap(err))
	}
	return out, nil
}

// rowColumns are the columns of an events row that copy event fields.
type rowColumns struct {
	id, tenant, action                         string
	occurredAt, receivedAt                     time.Time
	actorType, actorID, actorName, ip, traceID string
}

// conflict names the first column that disagrees with e, or "".
func (c *rowColumns) conflict(e *trail.Event) string {
	pairs := []struct{ name, col, ev string }{
		{"id", c.id, e.ID}, {"tenant", c.tenant, e.Tenant}, {"action", c.action, e.Action},
		{"occurred_at", fmt.Sprint(c.occurredAt.UnixMicro()), fmt.Sprint(e.OccurredAt.UnixMicro())},
		{"received_at", fmt.Sprint(c.receivedAt.UnixMicro()), fmt.Sprint(e.ReceivedAt.UnixMicro())},
		{"actor_type", c.actorType, e.Actor.Type}, {"actor_id", c.actorID, e.Actor.ID},
		{"actor_name", c.actorName, e.Actor.Name}, {"ip", c.ip, e.Context.IP}, {"trace_id", c.traceID, e.TraceID},
	}
	for _, p := range pairs {
		if p.col != p.ev {
			return fmt.Sprintf("%s column is %q, the event's %s is %q", p.name, p.col, p.name, p.ev)
		}
	}
	return ""
}

// LogSize returns the next Seq of tenant's log.
func (db *DB) LogSize(ctx context.Context, tenant string) (int64, error) {
	var n int64
	err := db.pool.QueryRow(ctx, "SELECT next_seq FROM tenant_seqs WHERE tenant = $1", tenant).Scan(&n)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("read log size: %w", wrap(err))
	}
	return n, nil
}

// RecordPruned records that events with Seq < before of tenant's log are
// being pruned, lowered to the sealed size, and returns the latest pruned
// range. The head row is locked, so the range and its checkpoint agree.
func (db *DB) RecordPruned(ctx context.Context, tenant string, before int64, at time.Time) (*trail.PrunedRange, error) {
	var out *trail.PrunedRange
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var size int64
		var cp []byte
		err := tx.QueryRow(ctx, "SELECT size, checkpoint FROM ledger_heads WHERE tenant = $1 FOR UPDATE",
			tenant).Scan(&size, &cp)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		last, err := lastPruned(ctx, tx, tenant)
		if err != nil {
			return err
		}
		out = last
		before = min(before, size)
		if before <= 0 || last != nil && before <= last.To {
			return nil
		}
		out = &trail.PrunedRange{Tenant: tenant, To: before, Checkpoint: cp, PrunedAt: trail.NormalTime(at)}
		if last != nil {
			out.From = last.To
		}
		_, err = tx.Exec(ctx, `INSERT INTO ledger_pruned (tenant, from_seq, to_seq, checkpoint, pruned_at)
			VALUES ($1, $2, $3, $4, $5)`, tenant, out.From, out.To, out.Checkpoint, out.PrunedAt)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("record pruned range: %w", wrap(err))
	}
	return out, nil
}

func lastPruned(ctx context.Context, tx pgx.Tx, tenant string) (*trail.PrunedRange, error) {
	r := &trail.PrunedRange{Tenant: tenant}
	err := tx.QueryRow(ctx, `SELECT from_seq, to_seq, checkpoint, pruned_at FROM ledger_pruned
		WHERE tenant = $1 ORDER BY to_seq DESC LIMIT 1`, tenant).Scan(&r.From, &r.To, &r.Checkpoint, &r.PrunedAt)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, err
	}
	r.PrunedAt = r.PrunedAt.UTC()
	return r, nil
}

// PrunedRanges returns the pruned ranges of tenant's log, in order.
func (db *DB) PrunedRanges(ctx context.Context, tenant string) ([]*trail.PrunedRange, error) {
	rows, err := db.pool.Query(ctx, `SELECT from_seq, to_seq, checkpoint, pruned_at FROM ledger_pruned
		WHERE tenant = $1 ORDER BY to_seq`, tenant)
	if err != nil {
		return nil, fmt.Errorf("read pruned ranges: %w", wrap(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*trail.PrunedRange, error) {
		r := &trail.PrunedRange{Tenant: tenant}
		err := row.Scan(&r.From, &r.To, &r.Checkpoint, &r.PrunedAt)
		r.PrunedAt = r.PrunedAt.UTC()
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("read pruned ranges: %w", wrap(err))
	}
	if out == nil {
		out = []*trail.PrunedRange{}
	}
	return out, nil
}
