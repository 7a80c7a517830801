package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/trailhq/trail"
)

var _ trail.ForwarderStore = (*DB)(nil)

// The cursor is read from stream_cursors (see trail.CursorForwarder); the
// statements that write it change both tables in one statement.
const forwarderColumns = `id, tenant, name, kind, managed_by, settings, created_at, updated_at,
	(SELECT pos FROM stream_cursors WHERE name = 'forwarder:' || forwarders.id), pending, state, attempts, last_success_at, last_error, last_error_at`

// CreateForwarder stores f with its cursor at cursor; ECONFLICT when
// f.Tenant already has a forwarder named f.Name.
func (db *DB) CreateForwarder(ctx context.Context, f *trail.Forwarder, cursor int64) error {
	settings, err := db.forwarderSettings(f)
	if err != nil {
		return fmt.Errorf("create forwarder: %w", err)
	}
	_, err = db.pool.Exec(ctx, `WITH f AS (INSERT INTO forwarders (id, tenant, name, kind, managed_by, settings,
		created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id)
		INSERT INTO stream_cursors (name, pos) SELECT 'forwarder:' || id, $9 FROM f`,
		f.ID, f.Tenant, f.Name, f.Kind, f.ManagedBy, settings, f.CreatedAt, f.UpdatedAt, cursor)
	switch {
	case isUniqueViolation(err):
		return trail.Errorf(trail.ECONFLICT, "a forwarder named %q already exists", f.Name)
	case err != nil:
		return fmt.Errorf("create forwarder: %w", wrap(err))
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
	tag, err := db.pool.Exec(ctx, `UPDATE forwarders SET kind = $1, managed_by = $2, settings = $3, updated_at = $4
		WHERE id = $5`, f.Kind, f.ManagedBy, settings, f.UpdatedAt, f.ID)
	return forwarderRow(tag, err, "update forwarder", f.ID)
}

// DeleteForwarder deletes forwarder id, its progress and its dead letters.
func (db *DB) DeleteForwarder(ctx context.Context, id string) error {
	tag, err := db.pool.Exec(ctx, `WITH c AS (DELETE FROM stream_cursors WHERE name = 'forwarder:' || $1::text)
		DELETE FROM forwarders WHERE id = $1`, id)
	return forwarderRow(tag, err, "delete forwarder", id)
}

// Forwarder returns tenant's forwarder named name, with its status.
func (db *DB) Forwarder(ctx context.Context, tenant, name string) (*trail.Forwarder, error) {
	fs, err := db.queryForwarders(ctx, "tenant = $1 AND name = $2", tenant, name)
	switch {
	case err != nil:
		return nil, fmt.Errorf("read forwarder: %w", wrap(err))
	case len(fs) == 0:
		return nil, trail.Errorf(trail.ENOTFOUND, "forwarder %q not found", name)
	}
	return fs[0], nil
}

// Forwarders lists scope.Tenant's forwarders, or all when scope.All, by
// tenant and name.
func (db *DB) Forwarders(ctx context.Context, scope trail.Scope) ([]*trail.Forwarder, error) {
	where, args := "tenant = $1", []any{scope.Tenant}
	if scope.All {
		where, args = "true", nil
	}
	fs, err := db.queryForwarders(ctx, where, args...)
	if err != nil {
		return nil, fmt.Errorf("list forwarders: %w", wrap(err))
	}
	return fs, nil
}

// SaveForwarderStatus records forwarder id's progress; the cursor never
// moves back.
func (db *DB) SaveForwarderStatus(ctx context.Context, id string, st *trail.ForwarderStatus) error {
	tag, err := db.pool.Exec(ctx, `WITH c AS (UPDATE stream_cursors SET pos = greatest(pos, $1)
		WHERE name = 'forwarder:' || $8::text)
		UPDATE forwarders SET pending = $2, state = $3, attempts = $4, last_success_at = $5,
		last_error = $6, last_error_at = $7 WHERE id = $8`,
		st.Cursor, st.Pending, st.State, st.Attempts, nullTime(st.LastSuccessAt), st.LastError,
		nullTime(st.LastErrorAt), id)
	return forwarderRow(tag, err, "save forwarder status", id)
}

// AddDeadLetters adds events to forwarder id's dead-letter list, updating
// earlier entries for the same events.
func (db *DB) AddDeadLetters(ctx context.Context, id string, dls []*trail.DeadLetter) error {
	b := &pgx.Batch{}
	for _, d := range dls {
		b.Queue(`INSERT INTO forwarder_dead_letters (forwarder_id, pos, event_id, tenant, action, attempts, error,
			failed_at, replay) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, false)
			ON CONFLICT (forwarder_id, pos) DO UPDATE SET attempts = forwarder_dead_letters.attempts + excluded.attempts,
			error = excluded.error, failed_at = excluded.failed_at, replay = false`,
			id, d.Pos, d.EventID, d.Tenant, d.Action, d.Attempts, d.Error, d.FailedAt)
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("add dead letters: %w", wrap(err))
	}
	return nil
}

// DeadLetters lists forwarder id's dead letters matching q, in Pos order.
func (db *DB) DeadLetters(ctx context.Context, id string, q trail.DeadLetterQuery) ([]*trail.DeadLetter, error) {
	query := `SELECT pos, event_id, tenant, action, attempts, error, failed_at, replay
		FROM forwarder_dead_letters WHERE forwarder_id = $1 AND pos > $2`
	if q.ReplayOnly {
		query += " AND replay"
	}
	rows, err := db.pool.Query(ctx, query+" ORDER BY pos LIMIT $3", id, q.After, pageLimit(q.Limit))
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", wrap(err))
	}
	dls, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*trail.DeadLetter, error) {
		var d trail.DeadLetter
		err := row.Scan(&d.Pos, &d.EventID, &d.Tenant, &d.Action, &d.Attempts, &d.Error, &d.FailedAt, &d.Replay)
		d.FailedAt = d.FailedAt.UTC()
		return &d, err
	})
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", wrap(err))
	}
	if dls == nil {
		dls = []*trail.DeadLetter{}
	}
	return dls, nil
}

// ReplayDeadLetters marks the dead letters of eventIDs (all when empty) for
// replay.
func (db *DB) ReplayDeadLetters(ctx context.Context, id string, eventIDs []string) (int64, error) {
	query, args := "UPDATE forwarder_dead_letters SET replay = true WHERE forwarder_id = $1", []any{id}
	if len(eventIDs) > 0 {
		query, args = query+" AND event_id = ANY($2)", append(args, eventIDs)
	}
	tag, err := db.pool.Exec(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("replay dead letters: %w", wrap(err))
	}
	return tag.RowsAffected(), nil
}

// DeleteDeadLetters removes the dead letters of eventIDs.
func (db *DB) DeleteDeadLetters(ctx context.Context, id string, eventIDs []string) error {
	if len(eventIDs) == 0 {
		return nil
	}
	_, err := db.pool.Exec(ctx, "DELETE FROM forwarder_dead_letters WHERE forwarder_id = $1 AND event_id = ANY($2)",
		id, eventIDs)
	if err != nil {
		return fmt.Errorf("delete dead letters: %w", wrap(err))
	}
	return nil
}

// StreamHead returns the Pos of the newest stored event, 0 when none. The
// counter row holds the next Pos of committed appends only: an append that
// has not committed yet holds its lock, not its value.
func (db *DB) StreamHead(ctx context.Context) (int64, error) {
	var next int64
	if err := db.pool.QueryRow(ctx, "SELECT next_pos FROM stream_pos").Scan(&next); err != nil {
		return 0, fmt.Errorf("stream head: %w", wrap(err))
	}
	return next - 1, nil
}

func (db *DB) queryForwarders(ctx context.Context, where string, args ...any) ([]*trail.Forwarder, error) {
	rows, err := db.pool.Query(ctx, "SELECT "+forwarderColumns+" FROM forwarders WHERE "+where+
		" ORDER BY tenant, name", args...)
	if err != nil {
		return nil, err
	}
	fs, err := pgx.CollectRows(rows, db.scanForwarder)
	if fs == nil {
		fs = []*trail.Forwarder{}
	}
	return fs, err
}

func (db *DB) scanForwarder(row pgx.CollectableRow) (*trail.Forwarder, error) {
	var (
		f                        trail.Forwarder
		st                       trail.ForwarderStatus
		settings                 []byte
		lastSuccess, lastErrorAt *time.Time
	)
	err := row.Scan(&f.ID, &f.Tenant, &f.Name, &f.Kind, &f.ManagedBy, &settings, &f.CreatedAt, &f.UpdatedAt,
		&st.Cursor, &st.Pending, &st.State, &st.Attempts, &lastSuccess, &st.LastError, &lastErrorAt)
	if err != nil {
		return nil, err
	}
	id, tenant, name, kind, managed, created, updated := f.ID, f.Tenant, f.Name, f.Kind, f.ManagedBy, f.CreatedAt, f.UpdatedAt
	if settings, err = openJSONB(db.secrets, settings, forwarderContext(id)); err != nil {
		return nil, fmt.Errorf("forwarder %s settings: %w", id, err)
	}
	if err := json.Unmarshal(settings, &f); err != nil {
		return nil, fmt.Errorf("forwarder %s settings: %w", id, err)
	}
	f.ID, f.Tenant, f.Name, f.Kind, f.ManagedBy = id, tenant, name, kind, managed
	f.CreatedAt, f.UpdatedAt = created.UTC(), updated.UTC()
	if lastSuccess != nil {
		st.LastSuccessAt = lastSuccess.UTC()
	}
	if lastErrorAt != nil {
		st.LastErrorAt = lastErrorAt.UTC()
	}
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
	return sealJSONB(db.secrets, b, forwarderContext(f.ID))
}

// forwarderContext binds a forwarder's sealed settings to its row.
func forwarderContext(id string) string { return "forwarder:" + id }

// forwarderRow turns the result of a statement that must touch exactly one
// forwarder into ENOTFOUND when it touched none.
func forwarderRow(tag pgconn.CommandTag, err error, what, id string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, wrap(err))
	}
	if tag.RowsAffected() == 0 {
		return trail.Errorf(trail.ENOTFOUND, "forwarder %s not found", id)
	}
	return nil
}
