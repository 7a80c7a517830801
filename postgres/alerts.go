package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
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
	_, err = db.pool.Exec(ctx, "INSERT INTO alert_rules (id, tenant, spec, created_at) VALUES ($1, $2, $3, $4)",
		r.ID, r.Tenant, string(spec), r.CreatedAt)
	switch {
	case isUniqueViolation(err):
		return trail.Errorf(trail.ECONFLICT, "alert rule %s exists", r.ID)
	case err != nil:
		return fmt.Errorf("create alert rule: %w", wrap(err))
	}
	return nil
}

// alertRuleContext is what a rule's sealed spec is bound to.
const alertRuleContext = "alert_rule"

// AlertRule returns rule id of scope.
func (db *DB) AlertRule(ctx context.Context, scope trail.Scope, id string) (*trail.AlertRule, error) {
	where, args := "id = $1", []any{id}
	if !scope.All {
		where, args = "id = $1 AND tenant = $2", append(args, scope.Tenant)
	}
	rules, err := db.queryRules(ctx, where, args...)
	switch {
	case err != nil:
		return nil, fmt.Errorf("read alert rule: %w", err)
	case len(rules) == 0:
		return nil, trail.Errorf(trail.ENOTFOUND, "alert rule %s not found", id)
	}
	return rules[0], nil
}

// AlertRules lists the rules of scope, oldest first.
func (db *DB) AlertRules(ctx context.Context, scope trail.Scope) ([]*trail.AlertRule, error) {
	where, args := "true", []any(nil)
	if !scope.All {
		where, args = "tenant = $1", []any{scope.Tenant}
	}
	rules, err := db.queryRules(ctx, where, args...)
	if err != nil {
		return nil, fmt.Errorf("list alert rules: %w", err)
	}
	return rules, nil
}

func (db *DB) queryRules(ctx context.Context, where string, args ...any) ([]*trail.AlertRule, error) {
	specs, err := queryStrings(ctx, db, "SELECT spec FROM alert_rules WHERE "+where+" ORDER BY created_at, id", args...)
	if err != nil {
		return nil, wrap(err)
	}
	rules := make([]*trail.AlertRule, len(specs))
	for i, s := range specs {
		rules[i] = new(trail.AlertRule)
		spec, err := secretbox.Open(db.secrets, []byte(s), alertRuleContext)
		if err != nil {
			return nil, fmt.Errorf("decode alert rule: %w", err)
		}
		if err := json.Unmarshal(spec, rules[i]); err != nil {
			return nil, fmt.Errorf("decode alert rule: %w", err)
		}
	}
	return rules, nil
}

// DeleteAlertRule deletes rule id of scope with its windows and
// undelivered firings.
func (db *DB) DeleteAlertRule(ctx context.Context, scope trail.Scope, id string) error {
	if _, err := db.AlertRule(ctx, scope, id); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		for _, q := range []string{
			"DELETE FROM alert_rules WHERE id = $1",
			"DELETE FROM alert_windows WHERE rule_id = $1",
			"DELETE FROM alert_firings WHERE rule_id = $1 AND pending",
		} {
			if _, err := tx.Exec(ctx, q, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete alert rule: %w", wrap(err))
	}
	return nil
}

// StartAlertCursor moves a never-set cursor to the stream's head.
func (db *DB) StartAlertCursor(ctx context.Context) (int64, error) {
	var pos int64
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE stream_cursors SET pos = (SELECT next_pos - 1 FROM stream_pos)
			WHERE name = $1 AND pos < 0`, trail.CursorAlerts)
		if err != nil {
			return err
		}
		return tx.QueryRow(ctx, "SELECT pos FROM stream_cursors WHERE name = $1", trail.CursorAlerts).Scan(&pos)
	})
	if err != nil {
		return 0, fmt.Errorf("start alert cursor: %w", wrap(err))
	}
	return pos, nil
}

// AlertState returns the evaluator's cursor and every window state, from
// one snapshot.
func (db *DB) AlertState(ctx context.Context) (int64, []*trail.AlertWindow, error) {
	var cursor int64
	var windows []*trail.AlertWindow
	err := pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, "SELECT pos FROM stream_cursors WHERE name = $1", trail.CursorAlerts).Scan(&cursor); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT state FROM alert_windows")
		if err != nil {
			return err
		}
		states, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, s := range states {
			var w trail.AlertWindow
			if err := json.Unmarshal([]byte(s), &w); err != nil {
				return fmt.Errorf("decode alert window: %w", err)
			}
			windows = append(windows, &w)
		}
		return nil
	})
	if err != nil {
		return 0, nil, fmt.Errorf("read alert state: %w", wrap(err))
	}
	return cursor, windows, nil
}

// SaveAlertProgress stores one round of evaluation atomically.
func (db *DB) SaveAlertProgress(ctx context.Context, p *trail.AlertProgress) error {
	moved := false
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "UPDATE stream_cursors SET pos = $1 WHERE name = $2 AND pos = $3",
			p.Cursor, trail.CursorAlerts, p.After)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			moved = true
			return nil
		}
		return saveAlertRows(ctx, tx, p)
	})
	switch {
	case err != nil:
		return fmt.Errorf("save alert progress: %w", wrap(err))
	case moved:
		return trail.Errorf(trail.ECONFLICT, "alert cursor moved: another evaluator saved progress")
	}
	return nil
}

func saveAlertRows(ctx context.Context, tx pgx.Tx, p *trail.AlertProgress) error {
	b := &pgx.Batch{}
	for _, k := range p.Deleted {
		b.Queue("DELETE FROM alert_windows WHERE rule_id = $1 AND group_key = $2", k.RuleID, k.GroupKey)
	}
	for _, w := range p.Windows {
		state, err := json.Marshal(w)
		if err != nil {
			return err
		}
		b.Queue(`INSERT INTO alert_windows (rule_id, group_key, state) VALUES ($1, $2, $3)
			ON CONFLICT (rule_id, group_key) DO UPDATE SET state = excluded.state`, w.RuleID, w.GroupKey, string(state))
	}
	for _, f := range p.Firings {
		doc, err := json.Marshal(f)
		if err != nil {
			return err
		}
		b.Queue(`INSERT INTO alert_firings (id, rule_id, group_key, window_start, fired_at, pending, next_attempt_at, doc)
			VALUES ($1, $2, $3, $4, $5, true, $6, $7) ON CONFLICT DO NOTHING`,
			f.ID, f.RuleID, f.GroupKey, f.WindowStart, f.FiredAt, f.NextAttemptAt, string(doc))
	}
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, b).Close()
}

// PendingAlertFirings returns firings due for delivery, oldest first.
func (db *DB) PendingAlertFirings(ctx context.Context, now time.Time, limit int) ([]*trail.AlertFiring, error) {
	return db.queryFirings(ctx, `SELECT doc FROM alert_firings WHERE pending AND next_attempt_at <= $1
		ORDER BY next_attempt_at, fired_at LIMIT $2`, now, pageLimit(limit))
}

// AlertFirings lists rule ruleID's newest firings.
func (db *DB) AlertFirings(ctx context.Context, ruleID string, limit int) ([]*trail.AlertFiring, error) {
	return db.queryFirings(ctx, `SELECT doc FROM alert_firings WHERE rule_id = $1
		ORDER BY fired_at DESC, id DESC LIMIT $2`, ruleID, pageLimit(limit))
}

func (db *DB) queryFirings(ctx context.Context, q string, args ...any) ([]*trail.AlertFiring, error) {
	docs, err := queryStrings(ctx, db, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list alert firings: %w", wrap(err))
	}
	out := make([]*trail.AlertFiring, len(docs))
	for i, d := range docs {
		out[i] = new(trail.AlertFiring)
		if err := json.Unmarshal([]byte(d), out[i]); err != nil {
			return nil, fmt.Errorf("decode alert firing: %w", err)
		}
	}
	return out, nil
}

// UpdateAlertFiring stores f's delivery progress.
func (db *DB) UpdateAlertFiring(ctx context.Context, f *trail.AlertFiring) error {
	doc, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("update alert firing: %w", err)
	}
	pending := f.DeliveredAt.IsZero() && !f.GaveUp
	_, err = db.pool.Exec(ctx, "UPDATE alert_firings SET pending = $1, next_attempt_at = $2, doc = $3 WHERE id = $4",
		pending, f.NextAttemptAt, string(doc), f.ID)
	if err != nil {
		return fmt.Errorf("update alert firing: %w", wrap(err))
	}
	return nil
}
