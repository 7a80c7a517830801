package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/secretbox"
)

var _ trail.ForwarderStore = (*DB)(nil)

// The cursor is read from stream_cursors (see trail.CursorForwarder).
const forwarderColumns = `id, tenant, name, kind, managed_by, settings, created_at, updated_at,
	(SELECT pos FROM stream_cursors WHERE name = 'forwarder:' || forwarders.id), pending, state, attempts, last_success_at, last_error, last_error_at`

// CreateForwarder stores f with its cursor at cursor; ECONFLICT when
// f.Tenant already has a forwarder named f.Name.
func (db *DB) CreateForwarder(ctx context.Context, f *trail.Forwarder, cursor int64) error {
	settings, err := db.forwarderSettings(f)
	if err != nil {
		return fmt.Errorf("create forwarder: %w", err)
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create forwarder: %w", err)
	}
	defer rollback(tx)
	_, err = tx.ExecContext(ctx, `INSERT INTO forwarders (id, tenant, name, kind, managed_by, settings,
		created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		f.ID, f.Tenant, f.Name, f.Kind, f.ManagedBy, settings, f.CreatedAt.UnixMicro(), f.UpdatedAt.UnixMicro())
	switch {
	case isConstraint(err):
		return trail.Errorf(trail.ECONFLICT, "a forwarder named %q already exists", f.Name)
	case err != nil:
		return fmt.Errorf("create forwarder: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO stream_cursors (name, pos) VALUES (?, ?)",
		trail.CursorForwarder(f.ID), cursor); err != nil {
		return fmt.Errorf("create forwarder cursor: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create forwarder: %w", err)
	}
	return nil
}

// UpdateForwarder replaces the settings of forwarder f.ID, keeping its
// progress and dead letters.
func (db *DB) UpdateForwarder(ctx context.Context, f *trail.Forwarder) error {
	settings, err := db.forwarderSettings(f)
	if err != nil {
		return fmt.Errorf("update forwarder: %w", err)
	}
	res, err := db.w.ExecContext(ctx, `UPDATE forwarders SET kind = ?, managed_by = ?, settings = ?, updated_at = ?
		WHERE id = ?`, f.Kind, f.ManagedBy, settings, f.UpdatedAt.UnixMicro(), f.ID)
	return forwarderRow(res, err, "update forwarder", f.ID)
}

// DeleteForwarder deletes forwarder id, its progress and its dead letters.
func (db *DB) DeleteForwarder(ctx context.Context, id string) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete forwarder: %w", err)
	}
	defer rollback(tx)
	res, err := tx.ExecContext(ctx, "DELETE FROM forwarders WHERE id = ?", id)
	if err := forwarderRow(res, err, "delete forwarder", id); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM stream_cursors WHERE name = ?", trail.CursorForwarder(id)); err != nil {
		return fmt.Errorf("delete forwarder cursor: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("delete forwarder: %w", err)
	}
	return nil
}

// Forwarder returns tenant's forwarder named name, with its status.
func (db *DB) Forwarder(ctx context.Context, tenant, name string) (*trail.Forwarder, error) {
	fs, err := db.queryForwarders(ctx, "tenant = ? AND name = ?", tenant, name)
	switch {
	case err != nil:
		return nil, fmt.Errorf("read forwarder: %w", err)
	case len(fs) == 0:
		return nil, trail.Errorf(trail.ENOTFOUND, "forwarder %q not found", name)
	}
	return fs[0], nil
}

// Forwarders lists scope.Tenant's forwarders, or all when scope.All, by
// tenant and name.
func (db *DB) Forwarders(ctx context.Context, scope trail.Scope) ([]*trail.Forwarder, error) {
	where, args := "tenant = ?", []any{scope.Tenant}
	if scope.All {
		where, args = "1", nil
	}
	fs, err := db.queryForwarders(ctx, where, args...)
	if err != nil {
		return nil, fmt.Errorf("list forwarders: %w", err)
	}
	return fs, nil
}

// SaveForwarderStatus records forwarder id's progress; the cursor never
// moves back.
func (db *DB) SaveForwarderStatus(ctx context.Context, id string, st *trail.ForwarderStatus) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save forwarder status: %w", err)
	}
	defer rollback(tx)
	res, err := tx.ExecContext(ctx, `UPDATE forwarders SET pending = ?,
		state = ?, attempts = ?, last_success_at = ?, last_error = ?, last_error_at = ? WHERE id = ?`,
		st.Pending, st.State, st.Attempts, micros(st.LastSuccessAt), st.LastError,
		micros(st.LastErrorAt), id)
	if err := forwarderRow(res, err, "save forwarder status", id); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE stream_cursors SET pos = max(pos, ?) WHERE name = ?",
		st.Cursor, trail.CursorForwarder(id)); err != nil {
		return fmt.Errorf("save forwarder cursor: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save forwarder status: %w", err)
	}
	return nil
}

// AddDeadLetters adds events to forwarder id's dead-letter list, replacing
// earlier entries for the same events.
func (db *DB) AddDeadLetters(ctx context.Context, id string, dls []*trail.DeadLetter) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("add dead letters: %w", err)
	}
	defer rollback(tx)
	for _, d := range dls {
		_, err := tx.ExecContext(ctx, `INSERT INTO forwarder_dead_letters (forwarder_id, pos, event_id, tenant,
			action, attempts, error, failed_at, replay) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)
			ON CONFLICT (forwarder_id, pos) DO UPDATE SET attempts = forwarder_dead_letters.attempts + excluded.attempts,
			error = excluded.error, failed_at = excluded.failed_at, replay = 0`,
			id, d.Pos, d.EventID, d.Tenant, d.Action, d.Attempts, d.Error, d.FailedAt.UnixMicro())
		if err != nil {
			return fmt.Errorf("add dead letters: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("add dead letters: %w", err)
	}
	return nil
}

// DeadLetters lists forwarder id's dead letters matching q, in Pos order.
func (db *DB) DeadLetters(ctx context.Context, id string, q trail.DeadLetterQuery) ([]*trail.DeadLetter, error) {
	query := `SELECT pos, event_id, tenant, action, attempts, error, failed_at, replay
		FROM forwarder_dead_letters WHERE forwarder_id = ? AND pos > ?`
	if q.ReplayOnly {
		query += " AND replay = 1"
	}
	rows, err := db.r.QueryContext(ctx, query+" ORDER BY pos LIMIT ?", id, q.After, pageLimit(q.Limit))
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	defer rows.Close()
	dls := []*trail.DeadLetter{}
	for rows.Next() {
		var d trail.DeadLetter
		var failed sql.NullInt64
		err := rows.Scan(&d.Pos, &d.EventID, &d.Tenant, &d.Action, &d.Attempts, &d.Error, &failed, &d.Replay)
		if err != nil {
			return nil, fmt.Errorf("list dead letters: %w", err)
		}
		d.FailedAt = fromMicros(failed)
		dls = append(dls, &d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	return dls, nil
}

// ReplayDeadLetters marks the dead letters of eventIDs (all when empty) for
// replay.
func (db *DB) ReplayDeadLetters(ctx context.Context, id string, eventIDs []string) (int64, error) {
	query, args := "UPDATE forwarder_dead_letters SET replay = 1 WHERE forwarder_id = ?", []any{id}
	if len(eventIDs) > 0 {
		query += " AND event_id IN (" + placeholders(len(eventIDs)) + ")"
		args = append(args, stringArgs(eventIDs)...)
	}
	res, err := db.w.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("replay dead letters: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("replay dead letters: %w", err)
	}
	return n, nil
}

// DeleteDeadLetters removes the dead letters of eventIDs.
func (db *DB) DeleteDeadLetters(ctx context.Context, id string, eventIDs []string) error {
	if len(eventIDs) == 0 {
		return nil
	}
	_, err := db.w.ExecContext(ctx, "DELETE FROM forwarder_dead_letters WHERE forwarder_id = ? AND event_id IN ("+
		placeholders(len(eventIDs))+")", append([]any{id}, stringArgs(eventIDs)...)...)
	if err != nil {
		return fmt.Errorf("delete dead letters: %w", err)
	}
	return nil
}

// StreamHead returns the Pos of the newest stored event, 0 when none.
func (db *DB) StreamHead(ctx context.Context) (int64, error) {
	var next int64
	if err := db.r.QueryRowContext(ctx, "SELECT next_pos FROM stream_pos").Scan(&next); err != nil {
		return 0, fmt.Errorf("stream head: %w", err)
	}
	return next - 1, nil
}

func (db *DB) queryForwarders(ctx context.Context, where string, args ...any) ([]*trail.Forwarder, error) {
	rows, err := db.r.QueryContext(ctx, "SELECT "+forwarderColumns+" FROM forwarders WHERE "+where+
		" ORDER BY tenant, name", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	fs := []*trail.Forwarder{}
	for rows.Next() {
		f, err := db.scanForwarder(rows)
		if err != nil {
			return nil, err
		}
		fs = append(fs, f)
	}
	return fs, rows.Err()
}

func (db *DB) scanForwarder(rows *sql.Rows) (*trail.Forwarder, error) {
	var (
		f                        trail.Forwarder
		st                       trail.ForwarderStatus
		settings                 []byte
		created, updated         int64
		lastSuccess, lastErrorAt sql.NullInt64
	)
	err := rows.Scan(&f.ID, &f.Tenant, &f.Name, &f.Kind, &f.ManagedBy, &settings, &created, &updated,
		&st.Cursor, &st.Pending, &st.State, &st.Attempts, &lastSuccess, &st.LastError, &lastErrorAt)
	if err != nil {
		return nil, err
	}
	id, tenant, name, kind, managed := f.ID, f.Tenant, f.Name, f.Kind, f.ManagedBy
	if settings, err = secretbox.Open(db.secrets, settings, forwarderContext(id)); err != nil {
		return nil, fmt.Errorf("forwarder %s settings: %w", id, err)
	}
	if err := json.Unmarshal(settings, &f); err != nil {
		return nil, fmt.Errorf("forwarder %s settings: %w", id, err)
	}
	f.ID, f.Tenant, f.Name, f.Kind, f.ManagedBy = id, tenant, name, kind, managed
	f.CreatedAt, f.UpdatedAt = fromMicros(sql.NullInt64{Int64: created, Valid: true}),
		fromMicros(sql.NullInt64{Int64: updated, Valid: true})
	st.LastSuccessAt, st.LastErrorAt = fromMicros(lastSuccess), fromMicros(lastErrorAt)
	f.Status = &st
	return &f, nil
}

// forwarderSettings is what is stored for f: the JSON of every setting,
// without the progress that has its own columns, sealed with the secrets
// key because it holds the forwarder's token and signing secrets.
func (db *DB) forwarderSettings(f *trail.Forwarder) ([]byte, error) {
	c := *f
	c.Status = nil
	b, err := json.Marshal(&c)
	if err != nil {
		return nil, err
	}
	return secretbox.Seal(db.secrets, b, forwarderContext(f.ID))
}

// forwarderContext binds a forwarder's sealed settings to its row.
func forwarderContext(id string) string { return "forwarder:" + id }

// forwarderRow turns the result of a statement that must touch exactly one
// forwarder into ENOTFOUND when it touched none.
func forwarderRow(res sql.Result, err error, what, id string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return trail.Errorf(trail.ENOTFOUND, "forwarder %s not found", id)
	}
	return nil
}

func stringArgs(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
