package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/trailhq/trail/internal/secretbox"
	"github.com/trailhq/trail/internal/tables"
)

// sealJSONB seals a JSON document for a jsonb column: a sealed value is
// kept as a JSON string.
func sealJSONB(k *secretbox.Keyring, doc []byte, context string) ([]byte, error) {
	sealed, err := secretbox.Seal(k, doc, context)
	if err != nil || k == nil {
		return sealed, err
	}
	return json.Marshal(string(sealed))
}

// openJSONB reverses sealJSONB; a plain document is returned as it is.
func openJSONB(k *secretbox.Keyring, stored []byte, context string) ([]byte, error) {
	if len(stored) > 0 && stored[0] == '"' {
		var s string
		if err := json.Unmarshal(stored, &s); err != nil {
			return nil, err
		}
		stored = []byte(s)
	}
	return secretbox.Open(k, stored, context)
}

// ResealSecrets seals every stored secret that is plain text (stored
// before secrets were sealed) or sealed with another key than the current
// one, and returns how many it sealed. The command line runs it at start
// and `trail secrets rotate` after adding a new key.
func (db *DB) ResealSecrets(ctx context.Context) (int, error) {
	if db.Secrets() == nil {
		return 0, nil
	}
	n, err := db.reseal(ctx, "forwarders", "settings", true, forwarderContext)
	if err != nil {
		return n, err
	}
	m, err := db.reseal(ctx, "alert_rules", "spec", false, func(string) string { return alertRuleContext })
	if err != nil {
		return n + m, err
	}
	o, err := db.reseal(ctx, "sso_providers", "client_secret", false, tables.SSOSecretContext)
	if err != nil {
		return n + m + o, err
	}
	q, err := db.reseal(ctx, "users", "mfa_secret", false, tables.MFASecretContext)
	return n + m + o + q, err
}

// reseal reseals column col (jsonb when isJSONB, else text) of every row of
// table that needs it. A row changed meanwhile by another writer is left
// to that writer, which sealed it with the current key.
func (db *DB) reseal(ctx context.Context, table, col string, isJSONB bool, context func(id string) string) (int, error) {
	rows, err := db.pool.Query(ctx, "SELECT id, "+col+"::text FROM "+table+" WHERE "+col+" IS NOT NULL")
	if err != nil {
		return 0, fmt.Errorf("reseal %s: %w", table, wrap(err))
	}
	type row struct{ id, stored string }
	var todo []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.stored); err != nil {
			rows.Close()
			return 0, fmt.Errorf("reseal %s: %w", table, wrap(err))
		}
		todo = append(todo, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("reseal %s: %w", table, wrap(err))
	}
	n := 0
	for _, r := range todo {
		raw := []byte(r.stored)
		if isJSONB && len(raw) > 0 && raw[0] == '"' {
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return n, fmt.Errorf("reseal %s %s: %w", table, r.id, err)
			}
			raw = []byte(s)
		}
		if !secretbox.NeedsReseal(db.Secrets(), raw) {
			continue
		}
		plain, err := db.Secrets().Open(raw, context(r.id))
		if err != nil {
			return n, fmt.Errorf("reseal %s %s: %w", table, r.id, err)
		}
		sealed, err := db.Secrets().Seal(plain, context(r.id))
		if err != nil {
			return n, fmt.Errorf("reseal %s %s: %w", table, r.id, err)
		}
		val, cast := string(sealed), "text"
		if isJSONB {
			b, _ := json.Marshal(val)
			val, cast = string(b), "jsonb"
		}
		_, err = db.pool.Exec(ctx, "UPDATE "+table+" SET "+col+" = $1::"+cast+" WHERE id = $2 AND "+col+"::text = $3",
			val, r.id, r.stored)
		if err != nil {
			return n, fmt.Errorf("reseal %s %s: %w", table, r.id, wrap(err))
		}
		n++
	}
	return n, nil
}
