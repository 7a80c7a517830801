package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"
	"github.com/trailhq/trail/storetest"
)

// TestSecrets: forwarder and alert secrets are sealed in the file, and a
// rotation reseals them (storetest.TestSecrets).
func TestSecrets(t *testing.T) {
	db := mustOpen(t, filepath.Join(t.TempDir(), "trail.db"))
	storetest.TestSecrets(t, db, func(t *testing.T) string {
		raw, err := sql.Open("sqlite3", "file:"+db.Path()+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		rows, err := raw.Query(`SELECT CAST(settings AS TEXT) FROM forwarders
			UNION ALL SELECT CAST(spec AS TEXT) FROM alert_rules`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			b.WriteString(s + "\n")
		}
		return b.String()
	})
}

// TestMFASecrets: users' TOTP secrets are sealed in the file
// (storetest.TestMFASecrets).
func TestMFASecrets(t *testing.T) {
	db := mustOpen(t, filepath.Join(t.TempDir(), "trail.db"))
	storetest.TestMFASecrets(t, db, func(t *testing.T) string {
		raw, err := sql.Open("sqlite3", "file:"+db.Path()+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		var s string
		if err := raw.QueryRow(`SELECT group_concat(CAST(mfa_secret AS TEXT), ' ') FROM users`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	})
}
