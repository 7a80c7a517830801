package sqlite

import (
	"context"
	"fmt"

	"github.com/trailhq/trail/internal/secretbox"
	"github.com/trailhq/trail/internal/tables"
)

// ResealSecrets seals every stored secret that is plain text (stored
// before secrets were sealed) or sealed with another key than the current
// one, and returns how many it sealed. The command line runs it at start
// and `trail secrets rotate` after adding a new key.
func (db *DB) ResealSecrets(ctx context.Context) (int, error) {
	if db.Secrets() == nil {
		return 0, nil
	}
	n, err := db.reseal(ctx, "forwarders", "settings", forwarderContext)
	if err != nil {
		return n, err
	}
	m, err := db.reseal(ctx, "alert_rules", "spec", func(string) string { return alertRuleContext })
	if err != nil {
		return n + m, err
	}
	o, err := db.reseal(ctx, "sso_providers", "client_secret", tables.SSOSecretContext)
	if err != nil {
		return n + m + o, err
	}
	q, err := db.reseal(ctx, "users", "mfa_secret", tables.MFASecretContext)
	return n + m + o + q, err
}

// reseal reseals column col of every row of table that needs it. A row
// changed meanwhile by another writer is left to that writer, which sealed
// it with the current key.
func (db *DB) reseal(ctx context.Context, table, col string, context func(id string) string) (int, error) {
	type row struct {
		id     string
		stored []byte
	}
	rows, err := db.w.QueryContext(ctx, "SELECT id, "+col+" FROM "+table+" WHERE "+col+" IS NOT NULL")
	if err != nil {
		return 0, fmt.Errorf("reseal %s: %w", table, err)
	}
	var todo []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.stored); err != nil {
			rows.Close()
			return 0, fmt.Errorf("reseal %s: %w", table, err)
		}
		if secretbox.NeedsReseal(db.Secrets(), r.stored) {
			todo = append(todo, r)
		}
	}
	if err := rows.Close(); err != nil {
		return 0, fmt.Errorf("reseal %s: %w", table, err)
	}
	n := 0
	for _, r := range todo {
		plain, err := db.Secrets().Open(r.stored, context(r.id))
		if err != nil {
			return n, fmt.Errorf("reseal %s %s: %w", table, r.id, err)
		}
		sealed, err := db.Secrets().Seal(plain, context(r.id))
		if err != nil {
			return n, fmt.Errorf("reseal %s %s: %w", table, r.id, err)
		}
		_, err = db.w.ExecContext(ctx, "UPDATE "+table+" SET "+col+" = ? WHERE id = ? AND CAST("+col+" AS BLOB) = ?",
			sealed, r.id, r.stored)
		if err != nil {
			return n, fmt.Errorf("reseal %s %s: %w", table, r.id, err)
		}
		n++
	}
	return n, nil
}
