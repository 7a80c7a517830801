package tables

import (
	"context"
	"fmt"
	"time"
)

// Expr is a piece of SQL with ? placeholders and their arguments.
type Expr struct {
	SQL  string
	Args []any
}

// AcquireLease takes lease name for holder until now+ttl when it is free,
// expired or already held by holder (a renewal). It reports false when
// another holder has an unexpired lease. The dialect says whose clock now
// is (PostgreSQL's, so that nodes whose clocks disagree still agree on who
// holds a lease); the upsert is one statement, so two racing for a free
// lease cannot both win.
func (t *Tables) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	until, now := t.d.LeaseClock(ttl)
	args := append(append([]any{name, holder}, until.Args...), now.Args...)
	n, err := t.exec(ctx, `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, `+until.SQL+`)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE leases.holder = excluded.holder OR leases.expires_at <= `+now.SQL, args...)
	if err != nil {
		return false, fmt.Errorf("acquire lease %s: %w", name, err)
	}
	return n == 1, nil
}

// ReleaseLease gives lease name up if holder has it.
func (t *Tables) ReleaseLease(ctx context.Context, name, holder string) error {
	if _, err := t.exec(ctx, "DELETE FROM leases WHERE name = ? AND holder = ?", name, holder); err != nil {
		return fmt.Errorf("release lease %s: %w", name, err)
	}
	return nil
}
