package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/tables"
)

var _ trail.AlertStore = (*DB)(nil)

// AlertState returns the evaluator's cursor and every window state.
func (db *DB) AlertState(ctx context.Context) (int64, []*trail.AlertWindow, error) {
	tx, err := db.r.BeginTx(ctx, nil) // one snapshot for both
	if err != nil {
		return 0, nil, fmt.Errorf("read alert state: %w", err)
	}
	defer rollback(tx)
	var cursor int64
	if err := tx.QueryRowContext(ctx, "SELECT pos FROM stream_cursors WHERE name = ?", trail.CursorAlerts).Scan(&cursor); err != nil {
		return 0, nil, fmt.Errorf("read alert cursor: %w", err)
	}
	rows, err := tx.QueryContext(ctx, "SELECT state FROM alert_windows")
	if err != nil {
		return 0, nil, fmt.Errorf("read alert windows: %w", err)
	}
	defer rows.Close()
	var windows []*trail.AlertWindow
	for rows.Next() {
		var state []byte
		var w trail.AlertWindow
		if err := rows.Scan(&state); err != nil {
			return 0, nil, fmt.Errorf("read alert windows: %w", err)
		}
		if err := json.Unmarshal(state, &w); err != nil {
			return 0, nil, fmt.Errorf("decode alert window: %w", err)
		}
		windows = append(windows, &w)
	}
	return cursor, windows, rows.Err()
}

// SaveAlertProgress stores one round of evaluation atomically.
func (db *DB) SaveAlertProgress(ctx context.Context, p *trail.AlertProgress) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save alert progress: %w", err)
	}
	defer rollback(tx)
	res, err := tx.ExecContext(ctx, "UPDATE stream_cursors SET pos = ? WHERE name = ? AND pos = ?",
		p.Cursor, trail.CursorAlerts, p.After)
	if err != nil {
		return fmt.Errorf("save alert cursor: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return trail.Errorf(trail.ECONFLICT, "alert cursor moved: another evaluator saved progress")
	}
	if err := saveWindows(ctx, tx, p); err != nil {
		return fmt.Errorf("save alert windows: %w", err)
	}
	for _, f := range p.Firings {
		if err := insertFiring(ctx, tx, f); err != nil {
			return fmt.Errorf("save alert firing: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save alert progress: %w", err)
	}
	return nil
}

func saveWindows(ctx context.Context, tx *sql.Tx, p *trail.AlertProgress) error {
	for _, k := range p.Deleted {
		if _, err := tx.ExecContext(ctx, "DELETE FROM alert_windows WHERE rule_id = ? AND group_key = ?", k.RuleID, k.GroupKey); err != nil {
			return err
		}
	}
	for _, w := range p.Windows {
		state, err := json.Marshal(w)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO alert_windows (rule_id, group_key, state) VALUES (?, ?, ?)
			ON CONFLICT (rule_id, group_key) DO UPDATE SET state = excluded.state`, w.RuleID, w.GroupKey, state)
		if err != nil {
			return err
		}
	}
	return nil
}

func insertFiring(ctx context.Context, tx *sql.Tx, f *trail.AlertFiring) error {
	doc, err := json.Marshal(f)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO alert_firings (id, rule_id, group_key, window_start, fired_at, pending,
		next_attempt_at, doc) VALUES (?, ?, ?, ?, ?, 1, ?, ?) ON CONFLICT DO NOTHING`,
		f.ID, f.RuleID, f.GroupKey, f.WindowStart.UnixMicro(), f.FiredAt.UnixMicro(), f.NextAttemptAt.UnixMicro(), doc)
	return err
}

// alertRuleContext is what a rule's sealed spec is bound to.
const alertRuleContext = tables.AlertRuleContext
