package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/trailhq/trail"
)

var _ trail.RetentionStore = (*DB)(nil)

// RetentionPolicy returns tenant's policy, or the default one.
func (db *DB) RetentionPolicy(ctx context.Context, tenant string) (*trail.RetentionPolicy, error) {
	p := &trail.RetentionPolicy{Tenant: tenant, Days: trail.DefaultRetentionDays}
	var updated sql.NullInt64
	err := db.r.QueryRowContext(ctx, "SELECT days, updated_at FROM retention_policies WHERE tenant = ?", tenant).
		Scan(&p.Days, &updated)
	if err != nil && err != sql.ErrNoRows {
		return nil, fmt.Errorf("read retention policy: %w", err)
	}
	p.UpdatedAt = fromMicros(updated)
	return p, nil
}

// SetRetentionPolicy stores p, replacing the tenant's previous policy.
func (db *DB) SetRetentionPolicy(ctx context.Context, p *trail.RetentionPolicy) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO retention_policies (tenant, days, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (tenant) DO UPDATE SET days = excluded.days, updated_at = excluded.updated_at`,
		p.Tenant, p.Days, p.UpdatedAt.UnixMicro())
	if err != nil {
		return fmt.Errorf("set retention policy: %w", err)
	}
	return nil
}

// CreateHold stores h.
func (db *DB) CreateHold(ctx context.Context, h *trail.Hold) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO legal_holds (id, tenant, kind, target_type, target_id, since, until,
		reason, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		h.ID, h.Tenant, h.Kind, h.TargetType, h.TargetID, micros(h.Since), micros(h.Until),
		h.Reason, h.CreatedAt.UnixMicro(), h.CreatedBy)
	if err != nil {
		if isConstraint(err) {
			return trail.Errorf(trail.ECONFLICT, "hold %s exists", h.ID)
		}
		return fmt.Errorf("create hold: %w", err)
	}
	return nil
}

const holdColumns = "id, tenant, kind, target_type, target_id, since, until, reason, created_at, created_by"

// Holds lists the holds of scope, oldest first.
func (db *DB) Holds(ctx context.Context, scope trail.Scope) ([]*trail.Hold, error) {
	q, args := "SELECT "+holdColumns+" FROM legal_holds ORDER BY created_at, id", []any(nil)
	if !scope.All {
		q = "SELECT " + holdColumns + " FROM legal_holds WHERE tenant = ? ORDER BY created_at, id"
		args = []any{scope.Tenant}
	}
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list holds: %w", err)
	}
	defer rows.Close()
	holds := []*trail.Hold{}
	for rows.Next() {
		h, err := scanHold(rows)
		if err != nil {
			return nil, fmt.Errorf("list holds: %w", err)
		}
		holds = append(holds, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list holds: %w", err)
	}
	return holds, nil
}

func scanHold(row interface{ Scan(...any) error }) (*trail.Hold, error) {
	var h trail.Hold
	var since, until, created sql.NullInt64
	err := row.Scan(&h.ID, &h.Tenant, &h.Kind, &h.TargetType, &h.TargetID, &since, &until,
		&h.Reason, &created, &h.CreatedBy)
	if err != nil {
		return nil, err
	}
	h.Since, h.Until, h.CreatedAt = fromMicros(since), fromMicros(until), fromMicros(created)
	return &h, nil
}

// DeleteHold deletes hold id of scope and returns it.
func (db *DB) DeleteHold(ctx context.Context, scope trail.Scope, id string) (*trail.Hold, error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("delete hold: %w", err)
	}
	defer rollback(tx)
	h, err := scanHold(tx.QueryRowContext(ctx, "SELECT "+holdColumns+" FROM legal_holds WHERE id = ?", id))
	switch {
	case err == sql.ErrNoRows || err == nil && !scope.All && h.Tenant != scope.Tenant:
		return nil, trail.Errorf(trail.ENOTFOUND, "hold %s not found", id)
	case err != nil:
		return nil, fmt.Errorf("delete hold: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM legal_holds WHERE id = ?", id); err != nil {
		return nil, fmt.Errorf("delete hold: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("delete hold: %w", err)
	}
	return h, nil
}

// RetentionEnd returns the first Seq >= from of tenant's log whose event
// is not past cutoff, or the log's size. The unary + keeps SQLite off the
// time index, so it walks the log in Seq order and reads only the expired
// events before the answer.
func (db *DB) RetentionEnd(ctx context.Context, tenant string, from int64, cutoff time.Time) (int64, error) {
	var seq int64
	err := db.r.QueryRowContext(ctx, `SELECT seq FROM events WHERE tenant = ? AND seq >= ? AND +occurred_at >= ?
		ORDER BY seq LIMIT 1`, tenant, from, cutoff.UnixMicro()).Scan(&seq)
	if err == sql.ErrNoRows {
		err = db.r.QueryRowContext(ctx, "SELECT coalesce(max(next_seq), 0) FROM tenant_seqs WHERE tenant = ?", tenant).Scan(&seq)
	}
	if err != nil {
		return 0, fmt.Errorf("find retention end: %w", err)
	}
	return max(seq, from), nil
}

// heldSQL is true for an event row e that a legal hold covers.
const heldSQL = `EXISTS (SELECT 1 FROM legal_holds h WHERE h.tenant = e.tenant AND (
	h.kind = 'tenant'
	OR (h.kind = 'time_range' AND e.occurred_at >= h.since AND e.occurred_at < h.until)
	OR (h.kind = 'target' AND EXISTS (SELECT 1 FROM json_each(CAST(e.data AS TEXT), '$.targets') AS t
		WHERE t.value ->> 'type' = h.target_type AND t.value ->> 'id' = h.target_id))))`

// DeleteEvents deletes the unheld events among up to limit events of
// tenant's log with Seq in [from, before), in one transaction.
func (db *DB) DeleteEvents(ctx context.Context, tenant string, from, before int64, limit int) (int64, int64, error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("delete events: %w", err)
	}
	defer rollback(tx)
	rows, err := tx.QueryContext(ctx, `SELECT e.pos, e.seq, e.data, `+heldSQL+` FROM events e
		WHERE e.tenant = ? AND e.seq >= ? AND e.seq < ? ORDER BY e.seq LIMIT ?`, tenant, from, before, limit)
	if err != nil {
		return 0, 0, fmt.Errorf("delete events: %w", err)
	}
	var doomed []*trail.Event
	next, examined := before, 0
	for rows.Next() {
		var pos, seq int64
		var data []byte
		var held bool
		if err := rows.Scan(&pos, &seq, &data, &held); err != nil {
			rows.Close()
			return 0, 0, fmt.Errorf("delete events: %w", err)
		}
		if examined++; examined == limit {
			next = seq + 1
		}
		if held {
			continue
		}
		e, err := decodeEvent(pos, data)
		if err != nil {
			rows.Close()
			return 0, 0, err
		}
		doomed = append(doomed, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, fmt.Errorf("delete events: %w", err)
	}
	if err := deleteEventRows(ctx, tx, doomed); err != nil {
		return 0, 0, fmt.Errorf("delete events: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, fmt.Errorf("delete events: %w", err)
	}
	return int64(len(doomed)), next, nil
}

// deleteEventRows deletes events and their postings (the per-entity view).
func deleteEventRows(ctx context.Context, tx *sql.Tx, evs []*trail.Event) error {
	delEvent, err := tx.PrepareContext(ctx, "DELETE FROM events WHERE pos = ?")
	if err != nil {
		return err
	}
	defer delEvent.Close()
	for _, e := range evs {
		if _, err := delEvent.ExecContext(ctx, e.Pos); err != nil {
			return err
		}
	}
	return deletePostings(ctx, tx, evs)
}
