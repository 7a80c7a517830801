package postgres_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/trailhq/trail"
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

// preload fills the store with n events spread over the year before the
// past month: COPY of generated rows into events, event_ids and
// event_targets (three streams at once), with the secondary indexes dropped
// during the load and built afterwards, then the counters, so that appends
// and reads after it behave as on a store that grew by itself.
func preload(ctx context.Context, db *postgres.DB, n int) (time.Duration, error) {
	start := time.Now()
	end := time.Now().Add(-31 * 24 * time.Hour).UTC().Truncate(time.Second)
	g := gen{step: 365 * 24 * time.Hour / time.Duration(n)}
	g.first = end.Add(-time.Duration(n) * g.step)
	if err := db.EnsurePartitions(ctx, g.first, end); err != nil {
		return 0, err
	}
	pool := db.Pool()
	defs, err := secondaryIndexes(ctx, pool)
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
	if err := copyAll(ctx, pool, &g, n, start); err != nil {
		return 0, err
	}
	for _, q := range []string{
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

type indexDef struct{ Name, Def string }

func secondaryIndexes(ctx context.Context, pool *pgxpool.Pool) ([]indexDef, error) {
	rows, err := pool.Query(ctx, `SELECT indexname, indexdef FROM pg_indexes
		WHERE tablename IN ('events', 'event_targets') AND indexname NOT LIKE '%pkey'`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[indexDef])
}

// copyAll copies the n events into events, event_ids and event_targets,
// each table on its own connection, in chunks (one transaction each).
func copyAll(ctx context.Context, pool *pgxpool.Pool, g *gen, n int, start time.Time) error {
	tables := []struct {
		name string
		cols []string
		row  func(*gen, int, []any)
	}{
		{"events", []string{"id", "tenant", "seq", "pos", "action", "occurred_at", "received_at",
			"actor_type", "actor_id", "actor_name", "ip", "trace_id", "data", "search", "search_pairs"}, (*gen).event},
		{"event_ids", []string{"id", "occurred_at"}, (*gen).eventID},
		{"event_targets", []string{"tenant", "type", "id", "occurred_at", "event_id"}, (*gen).target},
	}
	const chunk = 1_000_000
	errs := make([]error, len(tables))
	var wg sync.WaitGroup
	for ti, t := range tables {
		wg.Go(func() {
			for lo := 0; lo < n && errs[ti] == nil; lo += chunk {
				hi := min(lo+chunk, n)
				src := &genRows{g: g, i: lo - 1, end: hi, row: t.row, vals: make([]any, len(t.cols))}
				if _, err := pool.CopyFrom(ctx, pgx.Identifier{t.name}, t.cols, src); err != nil {
					errs[ti] = fmt.Errorf("preload: copy %s %d..%d: %w", t.name, lo, hi, err)
				}
				fmt.Fprintf(os.Stderr, "preload: %s %d of %d (%s)\n", t.name, hi, n, time.Since(start).Round(time.Second))
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// genRows is a pgx.CopyFromSource of the generated rows lo..end-1 of one
// table.
type genRows struct {
	g    *gen
	i    int
	end  int
	row  func(*gen, int, []any)
	vals []any
}

func (r *genRows) Next() bool {
	r.i++
	return r.i < r.end
}

func (r *genRows) Values() ([]any, error) {
	r.row(r.g, r.i, r.vals)
	return r.vals, nil
}

func (r *genRows) Err() error { return nil }

// gen makes event i of the preload, like the core benchmark's generator:
// tenant i%10 (Seq i/10) at stream position i+1, one of 5000 actors (500
// per tenant), one of 20000 project targets, one of 20 actions, at evenly
// spaced times from first; data is the JSON of the same shape and about the
// same size as trail.Event's, and id a UUIDv7 of the time and a hash of i.
type gen struct {
	first time.Time
	step  time.Duration
}

// fields are the parts of event i that its rows share.
type fields struct {
	id                    [16]byte
	tenant, actor, target string
	action, trace, ip     string
	a, t                  int
	at                    time.Time
}

func (g *gen) fields(i int) fields {
	a := int(mix(uint64(i), 1)%500)*10 + i%10
	t := int(mix(uint64(i), 2) % 20000)
	sum := md5.Sum([]byte(strconv.Itoa(i)))
	f := fields{
		tenant: fmt.Sprintf("tenant%02d", i%10), actor: fmt.Sprintf("user_%05d", a),
		target: fmt.Sprintf("proj_%05d", t), action: benchActions[mix(uint64(i), 3)%20],
		trace: hex.EncodeToString(sum[:]), ip: fmt.Sprintf("10.%d.%d.%d", a%256, t%256, i%256),
		a: a, t: t, at: g.first.Add(time.Duration(i) * g.step).Truncate(time.Microsecond),
	}
	ms := uint64(f.at.UnixMilli())
	for b := range 6 {
		f.id[b] = byte(ms >> (40 - 8*b))
	}
	copy(f.id[6:], sum[6:])
	f.id[6] = 0x70 | f.id[6]&0x0f
	f.id[8] = 0x80 | f.id[8]&0x3f
	return f
}

func (g *gen) event(i int, v []any) {
	f := g.fields(i)
	ts := f.at.Format(time.RFC3339Nano)
	data := fmt.Sprintf(`{"id":"%s","tenant":"%s","seq":%d,"action":"%s","occurred_at":"%s","received_at":"%s",`+
		`"actor":{"type":"user","id":"%s","name":"User Number %d","metadata":{"role":"admin"}},`+
		`"targets":[{"type":"project","id":"%s","name":"Project %d"}],`+
		`"context":{"ip":"%s","user_agent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36","location":"Berlin, DE"},`+
		`"metadata":{"changes":{"after":"editor","before":"viewer"},"plan":"enterprise","request_id":"req_%s"},"version":1,"trace_id":"%s"}`,
		uuidString(f.id), f.tenant, i/10, f.action, ts, ts, f.actor, f.a, f.target, f.t, f.ip, f.trace[:16], f.trace)
	v[0], v[1], v[2], v[3], v[4], v[5], v[6] = f.id, f.tenant, int64(i/10), int64(i+1), f.action, f.at, f.at
	v[7], v[8], v[9], v[10], v[11], v[12] = "user", f.actor, "User Number "+strconv.Itoa(f.a), f.ip, f.trace, data
	e, err := trail.DecodeEvent([]byte(data))
	if err != nil {
		panic(err) // the generator's own JSON
	}
	v[13], v[14] = postgres.SearchVector(e), true
}

func (g *gen) eventID(i int, v []any) {
	f := g.fields(i)
	v[0], v[1] = f.id, f.at
}

func (g *gen) target(i int, v []any) {
	f := g.fields(i)
	v[0], v[1], v[2], v[3], v[4] = f.tenant, "project", f.target, f.at, f.id
}

// mix is a 64-bit hash (splitmix64's finalizer) of i and a salt.
func mix(i, salt uint64) uint64 {
	x := i*0x9e3779b97f4a7c15 + salt*0xbf58476d1ce4e5b9
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

func uuidString(b [16]byte) string {
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
