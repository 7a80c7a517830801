package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/trailhq/trail"
)

var _ trail.LedgerStore = (*DB)(nil)

// LedgerStream returns up to limit stored events with Pos > after, in Pos
// order, undecoded.
func (db *DB) LedgerStream(ctx context.Context, after int64, limit int) ([]trail.LedgerEntry, error) {
	rows, err := db.r.QueryContext(ctx, "SELECT pos, tenant, seq, data FROM events WHERE pos > ? ORDER BY pos LIMIT ?",
		after, trail.PageSize(limit))
	if err != nil {
		return nil, fmt.Errorf("read ledger stream: %w", err)
	}
	defer rows.Close()
	out := []trail.LedgerEntry{}
	for rows.Next() {
		var e trail.LedgerEntry
		if err := rows.Scan(&e.Pos, &e.Tenant, &e.Seq, &e.Data); err != nil {
			return nil, fmt.Errorf("read ledger stream: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// LedgerHead returns the head of tenant's log, or ENOTFOUND.
func (db *DB) LedgerHead(ctx context.Context, tenant string) (*trail.LedgerHead, error) {
	h := &trail.LedgerHead{Tenant: tenant}
	var at int64
	err := db.r.QueryRowContext(ctx, "SELECT size, checkpoint, updated_at FROM ledger_heads WHERE tenant = ?",
		tenant).Scan(&h.Size, &h.Checkpoint, &at)
	switch {
	case err == sql.ErrNoRows:
		return nil, trail.Errorf(trail.ENOTFOUND, "log %q has no checkpoint yet", tenant)
	case err != nil:
		return nil, fmt.Errorf("read ledger head: %w", err)
	}
	h.UpdatedAt = time.UnixMicro(at).UTC()
	return h, nil
}

// LedgerHeads returns the head of every log, ordered by tenant.
func (db *DB) LedgerHeads(ctx context.Context) ([]*trail.LedgerHead, error) {
	rows, err := db.r.QueryContext(ctx, "SELECT tenant, size, checkpoint, updated_at FROM ledger_heads ORDER BY tenant")
	if err != nil {
		return nil, fmt.Errorf("list ledger heads: %w", err)
	}
	defer rows.Close()
	heads := []*trail.LedgerHead{}
	for rows.Next() {
		h := &trail.LedgerHead{}
		var at int64
		if err := rows.Scan(&h.Tenant, &h.Size, &h.Checkpoint, &at); err != nil {
			return nil, fmt.Errorf("list ledger heads: %w", err)
		}
		h.UpdatedAt = time.UnixMicro(at).UTC()
		heads = append(heads, h)
	}
	return heads, rows.Err()
}

// LedgerTiles returns the stored tiles among ids of tenant's log.
func (db *DB) LedgerTiles(ctx context.Context, tenant string, ids []trail.LedgerTileID) ([]*trail.LedgerTile, error) {
	tiles := []*trail.LedgerTile{}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 200)]
		ids = ids[len(chunk):]
		args := []any{tenant}
		for _, id := range chunk {
			args = append(args, id.Level, id.Index)
		}
		values := strings.TrimSuffix(strings.Repeat("(?, ?), ", len(chunk)), ", ")
		rows, err := db.r.QueryContext(ctx, "SELECT level, idx, hashes FROM ledger_tiles WHERE tenant = ? AND (level, idx) IN (VALUES "+values+")", args...)
		if err != nil {
			return nil, fmt.Errorf("read ledger tiles: %w", err)
		}
		for rows.Next() {
			t := &trail.LedgerTile{}
			if err := rows.Scan(&t.Level, &t.Index, &t.Hashes); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read ledger tiles: %w", err)
			}
			tiles = append(tiles, t)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read ledger tiles: %w", err)
		}
	}
	return tiles, nil
}

// CommitLedger stores one round of integration in one transaction, or
// returns ECONFLICT when the cursor moved since c.After.
func (db *DB) CommitLedger(ctx context.Context, c *trail.LedgerCommit) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("commit ledger: %w", err)
	}
	defer rollback(tx)
	res, err := tx.ExecContext(ctx, "UPDATE stream_cursors SET pos = ? WHERE name = ? AND pos = ?",
		c.Cursor, trail.CursorLedger, c.After)
	if err != nil {
		return fmt.Errorf("commit ledger: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return trail.Errorf(trail.ECONFLICT, "the ledger cursor moved: another sequencer is running")
	}
	for _, h := range c.Heads {
		_, err := tx.ExecContext(ctx, `INSERT INTO ledger_heads (tenant, size, checkpoint, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (tenant) DO UPDATE SET size = excluded.size, checkpoint = excluded.checkpoint, updated_at = excluded.updated_at`,
			h.Tenant, h.Size, h.Checkpoint, h.UpdatedAt.UnixMicro())
		if err != nil {
			return fmt.Errorf("commit ledger head: %w", err)
		}
	}
	for tenant, tiles := range c.Tiles {
		for _, t := range tiles {
			_, err := tx.ExecContext(ctx, `INSERT INTO ledger_tiles (tenant, level, idx, hashes) VALUES (?, ?, ?, ?)
				ON CONFLICT (tenant, level, idx) DO UPDATE SET hashes = excluded.hashes`,
				tenant, t.Level, t.Index, t.Hashes)
			if err != nil {
				return fmt.Errorf("commit ledger tile: %w", err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit ledger: %w", err)
	}
	return nil
}

// LedgerRows returns up to limit stored events of tenant's log with a
// stored seq >= from, with the seq each is stored under and any
// disagreement between its columns and its JSON.
func (db *DB) LedgerRows(ctx context.Context, tenant string, from int64, limit int) ([]trail.LedgerRow, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT seq, pos, id, tenant, action, occurred_at, received_at,
		actor_type, actor_id, actor_name, ip, trace_id, data
		FROM events WHERE tenant = ? AND seq >= ? ORDER BY seq, pos LIMIT ?`, tenant, from, trail.PageSize(limit))
	if err != nil {
		return nil, fmt.Errorf("read log rows: %w", err)
	}
	defer rows.Close()
	out := []trail.LedgerRow{}
	for rows.Next() {
		var seq, pos int64
		var c rowColumns
		var data []byte
		err := rows.Scan(&seq, &pos, &c.id, &c.tenant, &c.action, &c.occurredAt, &c.receivedAt,
			&c.actorType, &c.actorID, &c.actorName, &c.ip, &c.traceID, &data)
		if err != nil {
			return nil, fmt.Errorf("read log rows: %w", err)
		}
		e, err := trail.DecodeStored(pos, data)
		if err != nil {
			return nil, err
		}
		out = append(out, trail.LedgerRow{Seq: seq, Event: e, Data: data, Conflict: c.conflict(e)})
	}
	return out, rows.Err()
}

// rowColumns are the columns of an events row that copy event fields.
type rowColumns struct {
	id, tenant, action                         string
	occurredAt, receivedAt                     int64
	actorType, actorID, actorName, ip, traceID string
}

// conflict names the first column that disagrees with e, or "".
func (c *rowColumns) conflict(e *trail.Event) string {
	pairs := []struct{ name, col, ev string }{
		{"id", c.id, e.ID}, {"tenant", c.tenant, e.Tenant}, {"action", c.action, e.Action},
		{"occurred_at", fmt.Sprint(c.occurredAt), fmt.Sprint(e.OccurredAt.UnixMicro())},
		{"received_at", fmt.Sprint(c.receivedAt), fmt.Sprint(e.ReceivedAt.UnixMicro())},
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
	err := db.r.QueryRowContext(ctx, "SELECT next_seq FROM tenant_seqs WHERE tenant = ?", tenant).Scan(&n)
	if err != nil && err != sql.ErrNoRows {
		return 0, fmt.Errorf("read log size: %w", err)
	}
	return n, nil
}

// RecordPruned records that events with Seq < before of tenant's log are
// being pruned, lowered to the sealed size, and returns the latest pruned
// range.
func (db *DB) RecordPruned(ctx context.Context, tenant string, before int64, at time.Time) (*trail.PrunedRange, error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("record pruned range: %w", err)
	}
	defer rollback(tx)
	last, err := lastPruned(ctx, tx, tenant)
	if err != nil {
		return nil, err
	}
	var size int64
	var cp []byte
	err = tx.QueryRowContext(ctx, "SELECT size, checkpoint FROM ledger_heads WHERE tenant = ?", tenant).Scan(&size, &cp)
	if err != nil && err != sql.ErrNoRows {
		return nil, fmt.Errorf("record pruned range: %w", err)
	}
	before = min(before, size)
	if before <= 0 || last != nil && before <= last.To {
		return last, nil
	}
	r := &trail.PrunedRange{Tenant: tenant, To: before, Checkpoint: cp, PrunedAt: trail.NormalTime(at)}
	if last != nil {
		r.From = last.To
	}
	_, err = tx.ExecContext(ctx, "INSERT INTO ledger_pruned (tenant, from_seq, to_seq, checkpoint, pruned_at) VALUES (?, ?, ?, ?, ?)",
		tenant, r.From, r.To, r.Checkpoint, r.PrunedAt.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("record pruned range: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("record pruned range: %w", err)
	}
	return r, nil
}

func lastPruned(ctx context.Context, tx *sql.Tx, tenant string) (*trail.PrunedRange, error) {
	r := &trail.PrunedRange{Tenant: tenant}
	var at int64
	err := tx.QueryRowContext(ctx, `SELECT from_seq, to_seq, checkpoint, pruned_at FROM ledger_pruned
		WHERE tenant = ? ORDER BY to_seq DESC LIMIT 1`, tenant).Scan(&r.From, &r.To, &r.Checkpoint, &at)
	switch {
	case err == sql.ErrNoRows:
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("read pruned ranges: %w", err)
	}
	r.PrunedAt = time.UnixMicro(at).UTC()
	return r, nil
}

// PrunedRanges returns the pruned ranges of tenant's log, in order.
func (db *DB) PrunedRanges(ctx context.Context, tenant string) ([]*trail.PrunedRange, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT from_seq, to_seq, checkpoint, pruned_at FROM ledger_pruned
		WHERE tenant = ? ORDER BY to_seq`, tenant)
	if err != nil {
		return nil, fmt.Errorf("read pruned ranges: %w", err)
	}
	defer rows.Close()
	out := []*trail.PrunedRange{}
	for rows.Next() {
		r := &trail.PrunedRange{Tenant: tenant}
		var at int64
		if err := rows.Scan(&r.From, &r.To, &r.Checkpoint, &at); err != nil {
			return nil, fmt.Errorf("read pruned ranges: %w", err)
		}
		r.PrunedAt = time.UnixMicro(at).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}
