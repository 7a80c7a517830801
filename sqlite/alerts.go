package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/secretbox"
)

var _ trail.AlertStore = (*DB)(nil)

// CreateAlertRule stores r.
func (db *DB) CreateAlertRule(ctx context.Context, r *trail.AlertRule) error {
	spec, err := json.Marshal(r)
	if err == nil {
		// The spec holds the webhook's signing secret.
		spec, err = secretbox.Seal(db.secrets, spec, alertRuleContext)
	}
	if err != nil {
		return fmt.Errorf("create alert rule: %w", err)
	}
	_, err = db.w.ExecContext(ctx, "INSERT INTO alert_rules (id, tenant, spec, created_at) VALUES (?, ?, ?, ?)",
		r.ID, r.Tenant, spec, r.CreatedAt.UnixMicro())
	if err != nil {
		if isConstraint(err) {
			return trail.Errorf(trail.ECONFLICT, "alert rule %s exists", r.ID)
		}
		return fmt.Errorf("create alert rule: %w", err)
	}
	return nil
}

// alertRuleContext is what a rule's sealed spec is bound to.
const alertRuleContext = "alert_rule"

// decodeAlertRule opens a stored spec (sealed, or plain from before
// secrets were sealed) into r.
func (db *DB) decodeAlertRule(spec []byte, r *trail.AlertRule) error {
	spec, err := secretbox.Open(db.secrets, spec, alertRuleContext)
	if err != nil {
		return err
	}
	return json.Unmarshal(spec, r)
}

// AlertRule returns rule id of scope.
func (db *DB) AlertRule(ctx context.Context, scope trail.Scope, id string) (*trail.AlertRule, error) {
	var spec []byte
	err := db.r.QueryRowContext(ctx, "SELECT spec FROM alert_rules WHERE id = ?", id).Scan(&spec)
	if err == sql.ErrNoRows {
		return nil, trail.Errorf(trail.ENOTFOUND, "alert rule %s not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("read alert rule: %w", err)
	}
	var r trail.AlertRule
	if err := db.decodeAlertRule(spec, &r); err != nil {
		return nil, fmt.Errorf("decode alert rule %s: %w", id, err)
	}
	if !scope.All && r.Tenant != scope.Tenant {
		return nil, trail.Errorf(trail.ENOTFOUND, "alert rule %s not found", id)
	}
	return &r, nil
}

// AlertRules lists the rules of scope, oldest first.
func (db *DB) AlertRules(ctx context.Context, scope trail.Scope) ([]*trail.AlertRule, error) {
	q, args := "SELECT spec FROM alert_rules ORDER BY created_at, id", []any(nil)
	if !scope.All {
		q, args = "SELECT spec FROM alert_rules WHERE tenant = ? ORDER BY created_at, id", []any{scope.Tenant}
	}
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list alert rules: %w", err)
	}
	defer rows.Close()
	rules := []*trail.AlertRule{}
	for rows.Next() {
		var spec []byte
		var r trail.AlertRule
		if err := rows.Scan(&spec); err != nil {
			return nil, fmt.Errorf("list alert rules: %w", err)
		}
		if err := db.decodeAlertRule(spec, &r); err != nil {
			return nil, fmt.Errorf("decode alert rule: %w", err)
		}
		rules = append(rules, &r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list alert rules: %w", err)
	}
	return rules, nil
}

// DeleteAlertRule deletes rule id of scope with its windows and
// undelivered firings.
func (db *DB) DeleteAlertRule(ctx context.Context, scope trail.Scope, id string) error {
	if _, err := db.AlertRule(ctx, scope, id); err != nil {
		return err
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete alert rule: %w", err)
	}
	defer rollback(tx)
	for _, q := range []string{
		"DELETE FROM alert_rules WHERE id = ?",
		"DELETE FROM alert_windows WHERE rule_id = ?",
		"DELETE FROM alert_firings WHERE rule_id = ? AND pending = 1",
	} {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return fmt.Errorf("delete alert rule: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("delete alert rule: %w", err)
	}
	return nil
}

// StartAlertCursor moves a never-set cursor to the stream's head.
func (db *DB) StartAlertCursor(ctx context.Context) (int64, error) {
	_, err := db.w.ExecContext(ctx, `UPDATE stream_cursors SET pos = (SELECT next_pos - 1 FROM stream_pos)
		WHERE name = ? AND pos < 0`, trail.CursorAlerts)
	if err != nil {
		return 0, fmt.Errorf("start alert cursor: %w", err)
	}
	var pos int64
	if err := db.w.QueryRowContext(ctx, "SELECT pos FROM stream_cursors WHERE name = ?", trail.CursorAlerts).Scan(&pos); err != nil {
		return 0, fmt.Errorf("start alert cursor: %w", err)
	}
	return pos, nil
}

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

// PendingAlertFirings returns firings due for delivery, oldest first.
func (db *DB) PendingAlertFirings(ctx context.Context, now time.Time, limit int) ([]*trail.AlertFiring, error) {
	return db.queryFirings(ctx, `SELECT doc FROM alert_firings WHERE pending = 1 AND next_attempt_at <= ?
		ORDER BY next_attempt_at, fired_at LIMIT ?`, now.UnixMicro(), pageLimit(limit))
}

// AlertFirings lists rule ruleID's newest firings.
func (db *DB) AlertFirings(ctx context.Context, ruleID string, limit int) ([]*trail.AlertFiring, error) {
	return db.queryFirings(ctx, `SELECT doc FROM alert_firings WHERE rule_id = ?
		ORDER BY fired_at DESC, id DESC LIMIT ?`, ruleID, pageLimit(limit))
}

func (db *DB) queryFirings(ctx context.Context, q string, args ...any) ([]*trail.AlertFiring, error) {
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list alert firings: %w", err)
	}
	defer rows.Close()
	out := []*trail.AlertFiring{}
	for rows.Next() {
		var doc []byte
		var f trail.AlertFiring
		if err := rows.Scan(&doc); err != nil {
			return nil, fmt.Errorf("list alert firings: %w", err)
		}
		if err := json.Unmarshal(doc, &f); err != nil {
			return nil, fmt.Errorf("decode alert firing: %w", err)
		}
		out = append(out, &f)
	}
	return out, rows.Err()
}

// UpdateAlertFiring stores f's delivery progress.
func (db *DB) UpdateAlertFiring(ctx context.Context, f *trail.AlertFiring) error {
	doc, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("update alert firing: %w", err)
	}
	pending := f.DeliveredAt.IsZero() && !f.GaveUp
	_, err = db.w.ExecContext(ctx, "UPDATE alert_firings SET pending = ?, next_attempt_at = ?, doc = ? WHERE id = ?",
		pending, f.NextAttemptAt.UnixMicro(), doc, f.ID)
	if err != nil {
		return fmt.Errorf("update alert firing: %w", err)
	}
	return nil
}
