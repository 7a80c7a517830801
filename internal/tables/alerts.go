package tables

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/secretbox"
)

// AlertRuleContext is what a rule's sealed spec is bound to.
const AlertRuleContext = "alert_rule"

// CreateAlertRule stores r, its spec sealed: it holds the webhook's
// signing secret.
func (t *Tables) CreateAlertRule(ctx context.Context, r *trail.AlertRule) error {
	spec, err := json.Marshal(r)
	if err == nil {
		spec, err = secretbox.Seal(t.secrets, spec, AlertRuleContext)
	}
	if err != nil {
		return fmt.Errorf("create alert rule: %w", err)
	}
	_, err = t.exec(ctx, "INSERT INTO alert_rules (id, tenant, spec, created_at) VALUES (?, ?, ?, ?)",
		r.ID, r.Tenant, t.d.Doc(spec), t.d.Time(r.CreatedAt))
	switch {
	case t.d.IsUnique(err):
		return trail.Errorf(trail.ECONFLICT, "alert rule %s exists", r.ID)
	case err != nil:
		return fmt.Errorf("create alert rule: %w", err)
	}
	return nil
}

// AlertRule returns rule id of scope.
func (t *Tables) AlertRule(ctx context.Context, scope trail.Scope, id string) (*trail.AlertRule, error) {
	where, args := "id = ?", []any{id}
	if !scope.All {
		where, args = "id = ? AND tenant = ?", append(args, scope.Tenant)
	}
	rules, err := t.queryRules(ctx, where, args...)
	switch {
	case err != nil:
		return nil, fmt.Errorf("read alert rule: %w", err)
	case len(rules) == 0:
		return nil, trail.Errorf(trail.ENOTFOUND, "alert rule %s not found", id)
	}
	return rules[0], nil
}

// AlertRules lists the rules of scope, oldest first.
func (t *Tables) AlertRules(ctx context.Context, scope trail.Scope) ([]*trail.AlertRule, error) {
	where, args := "1 = 1", []any(nil)
	if !scope.All {
		where, args = "tenant = ?", []any{scope.Tenant}
	}
	rules, err := t.queryRules(ctx, where, args...)
	if err != nil {
		return nil, fmt.Errorf("list alert rules: %w", err)
	}
	return rules, nil
}

func (t *Tables) queryRules(ctx context.Context, where string, args ...any) ([]*trail.AlertRule, error) {
	return query(t, ctx, t.scanRule, "SELECT spec FROM alert_rules WHERE "+where+" ORDER BY created_at, id", args...)
}

// scanRule opens a stored spec (sealed, or plain from before secrets were
// sealed) into r.
func (t *Tables) scanRule(rows *sql.Rows, r *trail.AlertRule) error {
	var spec []byte
	if err := rows.Scan(&spec); err != nil {
		return err
	}
	spec, err := secretbox.Open(t.secrets, spec, AlertRuleContext)
	if err == nil {
		err = json.Unmarshal(spec, r)
	}
	if err != nil {
		return fmt.Errorf("decode alert rule: %w", err)
	}
	return nil
}

// DeleteAlertRule deletes rule id of scope with its windows and
// undelivered firings.
func (t *Tables) DeleteAlertRule(ctx context.Context, scope trail.Scope, id string) error {
	if _, err := t.AlertRule(ctx, scope, id); err != nil {
		return err
	}
	err := t.inTx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			"DELETE FROM alert_rules WHERE id = ?",
			"DELETE FROM alert_windows WHERE rule_id = ?",
			"DELETE FROM alert_firings WHERE rule_id = ? AND pending = TRUE",
		} {
			if _, err := tx.ExecContext(ctx, t.d.Rebind(q), id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete alert rule: %w", err)
	}
	return nil
}

// PendingAlertFirings returns firings due for delivery, oldest first.
// (pending = TRUE is what PostgreSQL's partial index on pending matches.)
func (t *Tables) PendingAlertFirings(ctx context.Context, now time.Time, limit int) ([]*trail.AlertFiring, error) {
	return t.queryFirings(ctx, `SELECT doc FROM alert_firings WHERE pending = TRUE AND next_attempt_at <= ?
		ORDER BY next_attempt_at, fired_at LIMIT ?`, t.d.Time(now), trail.PageSize(limit))
}

// AlertFirings lists rule ruleID's newest firings.
func (t *Tables) AlertFirings(ctx context.Context, ruleID string, limit int) ([]*trail.AlertFiring, error) {
	return t.queryFirings(ctx, `SELECT doc FROM alert_firings WHERE rule_id = ?
		ORDER BY fired_at DESC, id DESC LIMIT ?`, ruleID, trail.PageSize(limit))
}

func (t *Tables) queryFirings(ctx context.Context, q string, args ...any) ([]*trail.AlertFiring, error) {
	firings, err := query(t, ctx, scanDoc[trail.AlertFiring]("alert firing"), q, args...)
	if err != nil {
		return nil, fmt.Errorf("list alert firings: %w", err)
	}
	return firings, nil
}

// UpdateAlertFiring stores f's delivery progress.
func (t *Tables) UpdateAlertFiring(ctx context.Context, f *trail.AlertFiring) error {
	doc, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("update alert firing: %w", err)
	}
	pending := f.DeliveredAt.IsZero() && !f.GaveUp
	_, err = t.exec(ctx, "UPDATE alert_firings SET pending = ?, next_attempt_at = ?, doc = ? WHERE id = ?",
		pending, t.d.Time(f.NextAttemptAt), t.d.Doc(doc), f.ID)
	if err != nil {
		return fmt.Errorf("update alert firing: %w", err)
	}
	return nil
}

// UpdateAlertRule replaces the spec of rule r.ID of scope and drops its
// window states.
func (t *Tables) UpdateAlertRule(ctx context.Context, scope trail.Scope, r *trail.AlertRule) error {
	if _, err := t.AlertRule(ctx, scope, r.ID); err != nil {
		return err
	}
	spec, err := json.Marshal(r)
	if err == nil {
		spec, err = secretbox.Seal(t.secrets, spec, AlertRuleContext)
	}
	if err != nil {
		return fmt.Errorf("update alert rule: %w", err)
	}
	err = t.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, t.d.Rebind("UPDATE alert_rules SET spec = ? WHERE id = ?"), t.d.Doc(spec), r.ID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, t.d.Rebind("DELETE FROM alert_windows WHERE rule_id = ?"), r.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("update alert rule: %w", err)
	}
	return nil
}
