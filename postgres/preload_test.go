package postgres_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/trailhq/trail/postgres"
)

// benchActions are the actions of the core benchmark's generator (package
// bench), so that its filters select the same shares of the preload.
var benchActions = []string{
	"user.created", "user.updated", "user.deleted", "user.login.success", "user.login.failure",
	"api_key.created", "api_key.revoked", "team.member.added", "team.member.removed", "project.created",
	"project.deleted", "project.settings.updated", "invoice.paid", "invoice.refunded", "export.downloaded",
	"role.changed", "sso.configured", "webhook.created", "deploy.started", "deploy.finished",
}

// preloadSQL is one month of generated events, made by the server from
// generate_series: event i belongs to tenant i%10 (Seq i/10) at stream
// position i+1, its actor is one of 5000 (500 per tenant) and its target one
// of 20000, like the core benchmark's events; data is compact JSON of the
// same shape and about the same size as trail.Event's.
const preloadSQL = `
INSERT INTO events (id, tenant, seq, pos, action, occurred_at, received_at, actor_type, actor_id, actor_name, ip, trace_id, data)
SELECT id, tenant, i / 10, i + 1, action, at, at, 'user', actor, 'User Number ' || a, ip, trace, format(
  '{"id":"%s","tenant":"%s","seq":%s,"action":"%s","occurred_at":"%s","received_at":"%s","actor":{"type":"user","id":"%s","name":"User Number %s","metadata":{"role":"admin"}},"targets":[{"type":"project","id":"%s","name":"Project %s"}],"context":{"ip":"%s","user_agent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36","location":"Berlin, DE"},"metadata":{"changes":{"after":"editor","before":"viewer"},"plan":"enterprise","request_id":"req_%s"},"version":1,"trace_id":"%s"}',
  id, tenant, i / 10, action, ts, ts, actor, a, target, t, ip, substr(trace, 1, 16), trace)
FROM (
  SELECT i, tenant, a, actor, t, 'proj_' || lpad(t::text, 5, '0') AS target, action, at,
    to_char(at, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS ts,
    format('10.%s.%s.%s', a % 256, t % 256, i % 256) AS ip, trace,
    (lpad(to_hex((extract(epoch FROM at) * 1000)::bigint), 12, '0') || '7' || substr(trace, 14, 3) || '8' ||
      substr(trace, 17, 15))::uuid AS id
  FROM (
    SELECT i, 'tenant' || lpad((i % 10)::text, 2, '0') AS tenant, a, 'user_' || lpad(a::text, 5, '0') AS actor,
      (hashint4(i::int # 77) & 2147483647) % 20000 AS t,
      ($4::text[])[1 + (hashint4(i::int # 99) & 2147483647) % 20] AS action,
      $3::timestamptz + i * $5::interval AS at, md5(i::text) AS trace
    FROM generate_series($1::bigint, $2::bigint - 1) AS i,
      LATERAL (SELECT ((hashint4(i::int) & 2147483647) % 500) * 10 + (i % 10)::int AS a) AS pick
  ) AS g
) AS x`

// preload fills the store with n events spread over the past year, in
// chunks, with the secondary indexes built afterwards, then the tables that derive from events
// and the counters, so that appends and reads after it behave as on a store
// that grew by itself.
func preload(ctx context.Context, db *postgres.DB, n int) (time.Duration, error) {
	start := time.Now()
	end := time.Now().Add(-31 * 24 * time.Hour).UTC().Truncate(time.Second)
	step := 365 * 24 * time.Hour / time.Duration(n)
	first := end.Add(-time.Duration(n) * step)
	if err := db.EnsurePartitions(ctx, first, end); err != nil {
		return 0, err
	}
	pool := db.Pool()
	rows, err := pool.Query(ctx, `SELECT indexname, indexdef FROM pg_indexes
		WHERE tablename IN ('events', 'event_targets') AND indexname NOT LIKE '%pkey'`)
	if err != nil {
		return 0, err
	}
	defs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct{ Name, Def string }])
	if err != nil {
		return 0, err
	}
	// Building an index from sorted rows is much faster than growing it
	// row by row, so the secondary indexes are dropped during the load.
	for _, d := range defs {
		if _, err := pool.Exec(ctx, "DROP INDEX "+d.Name); err != nil {
			return 0, err
		}
	}
	const chunk = 500_000
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		_, err := pool.Exec(ctx, preloadSQL, lo, hi, first, benchActions, fmt.Sprintf("%d microseconds", step.Microseconds()))
		if err != nil {
			return 0, fmt.Errorf("preload events %d..%d: %w", lo, hi, err)
		}
		fmt.Fprintf(os.Stderr, "preload: %d of %d events (%s)\n", hi, n, time.Since(start).Round(time.Second))
	}
	for _, q := range []string{
		`INSERT INTO event_ids (id, occurred_at) SELECT id, occurred_at FROM events`,
		`INSERT INTO event_targets (tenant, type, id, occurred_at, event_id)
			SELECT tenant, 'project', data::json->'targets'->0->>'id', occurred_at, id FROM events`,
		`INSERT INTO event_actions (tenant, action) SELECT DISTINCT tenant, action FROM events ON CONFLICT DO NOTHING`,
		`INSERT INTO tenant_seqs (tenant, next_seq) SELECT tenant, max(seq) + 1 FROM events GROUP BY tenant
			ON CONFLICT (tenant) DO UPDATE SET next_seq = excluded.next_seq`,
		`UPDATE stream_pos SET next_pos = (SELECT max(pos) + 1 FROM events)`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			return 0, fmt.Errorf("preload: %s: %w", strings.Fields(q)[0:3], err)
		}
	}
	for _, d := range defs {
		// pg_indexes shows a partitioned index as ON ONLY the parent;
		// without ONLY it is built on every partition too.
		def := strings.Replace(d.Def, " ON ONLY ", " ON ", 1)
		if _, err := pool.Exec(ctx, def); err != nil {
			return 0, fmt.Errorf("preload: rebuild %s: %w", d.Name, err)
		}
		fmt.Fprintf(os.Stderr, "preload: built %s (%s)\n", d.Name, time.Since(start).Round(time.Second))
	}
	if _, err := pool.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}
