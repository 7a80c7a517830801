package postgres

import (
	"context"
	"fmt"
	"time"
)

// AcquireLease takes lease name for holder until now+ttl when it is free,
// expired or already held by holder (a renewal). It reports false when
// another holder has an unexpired lease. Expiry is on the database's clock,
// so nodes whose clocks disagree still agree on who holds a lease; the
// upsert is one statement, so two nodes racing for a free lease cannot both
// win.
func (db *DB) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	tag, err := db.pool.Exec(ctx, `INSERT INTO leases (name, holder, expires_at)
		VALUES ($1, $2, clock_timestamp() + $3 * interval '1 microsecond')
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE leases.holder = excluded.holder OR leases.expires_at <= clock_timestamp()`,
		name, holder, ttl.Microseconds())
	if err != nil {
		return false, fmt.Errorf("acquire lease %s: %w", name, wrap(err))
	}
	return tag.RowsAffected() == 1, nil
}

// ReleaseLease gives lease name up if holder has it.
func (db *DB) ReleaseLease(ctx context.Context, name, holder string) error {
	_, err := db.pool.Exec(ctx, "DELETE FROM leases WHERE name = $1 AND holder = $2", name, holder)
	if err != nil {
		return fmt.Errorf("release lease %s: %w", name, wrap(err))
	}
	return nil
}
