package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/trailhq/trail/internal/pgtest"
	"github.com/trailhq/trail/storetest"
)

// TestSecrets: forwarder and alert secrets are sealed in the database, and
// a rotation reseals them (storetest.TestSecrets).
func TestSecrets(t *testing.T) {
	dsn := pgtest.NewDB(t)
	db := MustOpen(t, dsn)
	storetest.TestSecrets(t, db, func(t *testing.T) string {
		conn, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		rows, err := conn.Query(context.Background(),
			`SELECT settings::text FROM forwarders UNION ALL SELECT spec FROM alert_rules`)
		if err != nil {
			t.Fatal(err)
		}
		ss, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(ss, "\n")
	})
}

// TestMFASecrets: users' TOTP secrets are sealed in the database
// (storetest.TestMFASecrets).
func TestMFASecrets(t *testing.T) {
	dsn := pgtest.NewDB(t)
	db := MustOpen(t, dsn)
	storetest.TestMFASecrets(t, db, func(t *testing.T) string {
		conn, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		var s string
		if err := conn.QueryRow(context.Background(), `SELECT string_agg(mfa_secret, ' ') FROM users`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	})
}
