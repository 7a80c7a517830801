package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/tables"
)

var _ trail.AlertStore = (*DB)(nil)

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

// alertRuleContext is what a rule's sealed spec is bound to.
const alertRuleContext = tables.AlertRuleContext
