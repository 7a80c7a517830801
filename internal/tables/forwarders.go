package tables

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/trailhq/trail"
)

// The cursor is read from stream_cursors (see trail.CursorForwarder), the
// one table of the stream's readers' cursors.
const forwarderColumns = `id, tenant, name, kind, managed_by, settings, created_at, updated_at,
	(SELECT pos FROM stream_cursors WHERE name = 'forwarder:' || forwarders.id), pending, state, attempts,
	last_success_at, last_error, last_error_at`

// CreateForwarder stores f with its cursor at cursor; ECONFLICT when
// f.Tenant already has a forwarder named f.Name.
func (t *Tables) CreateForwarder(ctx context.Context, f *trail.Forwarder, cursor int64) error {
	settings, err := t.forwarderSettings(f)
	if err != nil {
		return fmt.Errorf("create forwarder: %w", err)
	}
	err = t.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, t.d.Rebind(`INSERT INTO forwarders (id, tenant, name, kind, managed_by,
			settings, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
			f.ID, f.Tenant, f.Name, f.Kind, f.ManagedBy, settings, t.d.Time(f.CreatedAt), t.d.Time(f.UpdatedAt)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, t.d.Rebind("INSERT INTO stream_cursors (name, pos) VALUES (?, ?)"),
			trail.CursorForwarder(f.ID), cursor)
		return err
	})
	switch {
	case t.d.IsUnique(err):
		return trail.Errorf(trail.ECONFLICT, "a forwarder named %q already exists", f.Name)
	case err != nil:
		return fmt.Errorf("create forwarder: %w", err)
	}
	return nil
}

// UpdateForwarder replaces the settings of forwarder f.ID, keeping its
// progress and dead letters.
func (t *Tables) UpdateForwarder(ctx context.Context, f *trail.Forwarder) error {
	settings, err := t.forwarderSettings(f)
	if err != nil {
		return fmt.Errorf("update forwarder: %w", err)
	}
	n, err := t.exec(ctx, `UPDATE forwarders SET kind = ?, managed_by = ?, settings = ?, updated_at = ?
		WHERE id = ?`, f.Kind, f.ManagedBy, settings, t.d.Time(f.UpdatedAt), f.ID)
	return ForwarderRow(n, err, "update forwarder", f.ID)
}

// DeleteForwarder deletes forwarder id, its progress and its dead letters.
func (t *Tables) DeleteForwarder(ctx context.Context, id string) error {
	var n int64
	err := t.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, t.d.Rebind("DELETE FROM forwarders WHERE id = ?"), id)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, t.d.Rebind("DELETE FROM stream_cursors WHERE name = ?"), trail.CursorForwarder(id))
		return err
	})
	return ForwarderRow(n, err, "delete forwarder", id)
}

// Forwarder returns tenant's forwarder named name, with its status.
func (t *Tables) Forwarder(ctx context.Context, tenant, name string) (*trail.Forwarder, error) {
	fs, err := t.queryForwarders(ctx, "tenant = ? AND name = ?", tenant, name)
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
func (t *Tables) Forwarders(ctx context.Context, scope trail.Scope) ([]*trail.Forwarder, error) {
	where, args := "tenant = ?", []any{scope.Tenant}
	if scope.All {
		where, args = "1 = 1", nil
	}
	fs, err := t.queryForwarders(ctx, where, args...)
	if err != nil {
		return nil, fmt.Errorf("list forwarders: %w", err)
	}
	return fs, nil
}

func (t *Tables) queryForwarders(ctx context.Context, where string, args ...any) ([]*trail.Forwarder, error) {
	return query(t, ctx, t.scanForwarder, "SELECT "+forwarderColumns+" FROM forwarders WHERE "+where+
		" ORDER BY tenant, name", args...)
}

func (t *Tables) scanForwarder(rows *sql.Rows, f *trail.Forwarder) error {
	var st trail.ForwarderStatus
	var settings []byte
	err := rows.Scan(&f.ID, &f.Tenant, &f.Name, &f.Kind, &f.ManagedBy, &settings, ScanTime(&f.CreatedAt),
		ScanTime(&f.UpdatedAt), &st.Cursor, &st.Pending, &st.State, &st.Attempts, ScanTime(&st.LastSuccessAt),
		&st.LastError, ScanTime(&st.LastErrorAt))
	if err != nil {
		return err
	}
	row := *f // the columns, which the settings must not override
	if settings, err = t.d.OpenDoc(t.secrets, settings, ForwarderContext(row.ID)); err != nil {
		return fmt.Errorf("forwarder %s settings: %w", row.ID, err)
	}
	if err := json.Unmarshal(settings, f); err != nil {
		return fmt.Errorf("forwarder %s settings: %w", row.ID, err)
	}
	f.ID, f.Tenant, f.Name, f.Kind, f.ManagedBy = row.ID, row.Tenant, row.Name, row.Kind, row.ManagedBy
	f.CreatedAt, f.UpdatedAt = row.CreatedAt, row.UpdatedAt
	f.Status = &st
	return nil
}

// forwarderSettings is what is stored for f: the JSON of every setting,
// without the progress that has its own columns, sealed with the secrets
// key because it holds the forwarder's token and signing secrets.
func (t *Tables) forwarderSettings(f *trail.Forwarder) ([]byte, error) {
	c := *f
	c.Status = nil
	b, err := json.Marshal(&c)
	if err != nil {
		return nil, err
	}
	return t.d.SealDoc(t.secrets, b, ForwarderContext(f.ID))
}

// ForwarderContext binds a forwarder's sealed settings to its row.
func ForwarderContext(id string) string { return "forwarder:" + id }

// ForwarderRow turns the outcome of a statement that must touch exactly
// one forwarder (n rows changed, or err) into ENOTFOUND when it touched
// none.
func ForwarderRow(n int64, err error, what, id string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return trail.Errorf(trail.ENOTFOUND, "forwarder %s not found", id)
	}
	return nil
}

// DeadLetters lists forwarder id's dead letters matching q, in Pos order.
// The stores add them themselves: PostgreSQL in one batch.
func (t *Tables) DeadLetters(ctx context.Context, id string, q trail.DeadLetterQuery) ([]*trail.DeadLetter, error) {
	sel := `SELECT pos, event_id, tenant, action, attempts, error, failed_at, replay
		FROM forwarder_dead_letters WHERE forwarder_id = ? AND pos > ?`
	if q.ReplayOnly {
		sel += " AND replay = TRUE"
	}
	dls, err := query(t, ctx, scanDeadLetter, sel+" ORDER BY pos LIMIT ?", id, q.After, trail.PageSize(q.Limit))
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	return dls, nil
}

func scanDeadLetter(rows *sql.Rows, d *trail.DeadLetter) error {
	return rows.Scan(&d.Pos, &d.EventID, &d.Tenant, &d.Action, &d.Attempts, &d.Error, ScanTime(&d.FailedAt), &d.Replay)
}

// ReplayDeadLetters marks the dead letters of eventIDs (all when empty) for
// replay.
func (t *Tables) ReplayDeadLetters(ctx context.Context, id string, eventIDs []string) (int64, error) {
	q, args := "UPDATE forwarder_dead_letters SET replay = TRUE WHERE forwarder_id = ?", []any{id}
	if len(eventIDs) > 0 {
		in, more := inList(eventIDs)
		q, args = q+" AND event_id IN ("+in+")", append(args, more...)
	}
	n, err := t.exec(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("replay dead letters: %w", err)
	}
	return n, nil
}

// DeleteDeadLetters removes the dead letters of eventIDs.
func (t *Tables) DeleteDeadLetters(ctx context.Context, id string, eventIDs []string) error {
	if len(eventIDs) == 0 {
		return nil
	}
	in, args := inList(eventIDs)
	_, err := t.exec(ctx, "DELETE FROM forwarder_dead_letters WHERE forwarder_id = ? AND event_id IN ("+in+")",
		append([]any{id}, args...)...)
	if err != nil {
		return fmt.Errorf("delete dead letters: %w", err)
	}
	return nil
}

// inList returns the placeholders and arguments of an IN list of vs.
func inList(vs []string) (string, []any) {
	args := make([]any, len(vs))
	for i, v := range vs {
		args[i] = v
	}
	return strings.TrimSuffix(strings.Repeat("?, ", len(vs)), ", "), args
}
