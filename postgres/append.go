package postgres

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/tables"
)

// AppendBatches stores every batch in one transaction, assigning Seq and
// Pos in commit order, and returns once the commit is durable. A batch
// whose idempotency key was stored before (by any node, or earlier in the
// same call) is not stored; its Replayed is set to the remembered response
// instead. On error nothing is stored and the batches are left as they were
// passed in; an unreachable database gives EUNAVAILABLE.
func (db *DB) AppendBatches(ctx context.Context, batches []*trail.Batch) error {
	months := eventMonths(batches)
	search := makeSearchCols(batches, db.noSearch)
	err := db.ensurePartitions(ctx, months)
	if err == nil {
		err = db.appendOnce(ctx, batches, search)
	}
	if isNoPartition(err) {
		// A month this node thought it had was dropped: create it again.
		db.parts.forget()
		if err = db.ensurePartitions(ctx, months); err == nil {
			err = db.appendOnce(ctx, batches, search)
		}
	}
	if err != nil {
		return fmt.Errorf("append batch: %w", wrap(err))
	}
	n := 0
	for _, b := range batches {
		n += len(b.Events)
	}
	db.noteAppended(n)
	return nil
}

func eventMonths(batches []*trail.Batch) map[time.Time]bool {
	months := map[time.Time]bool{}
	for _, b := range batches {
		for _, e := range b.Events {
			months[monthOf(e.OccurredAt)] = true
		}
	}
	return months
}

// appendOnce runs one append transaction.
func (db *DB) appendOnce(ctx context.Context, batches []*trail.Batch, search *searchCols) error {
	a := &appender{now: trail.NormalTime(db.now()), search: search, dir: db.settings.DirectoryCache()}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		a.tx = tx
		return a.appendAll(ctx, batches)
	})
	if err != nil {
		undo(batches)
		if isUniqueViolation(err) {
			return trail.Errorf(trail.ECONFLICT, "an event of the batch is already stored")
		}
		return err
	}
	for b, r := range a.replayed {
		b.Replayed = r
	}
	if a.dirRows != nil {
		a.dir.Remember(a.dirRows)
	}
	return nil
}

// appender is the state of one append transaction.
type appender struct {
	tx       pgx.Tx
	now      time.Time
	pos      int64       // next stream position
	search   *searchCols // the events' search columns, made before the transaction
	replayed map[*trail.Batch]*trail.IdempotentResponse
	dir      *tables.Directory     // the directory entries this node wrote
	dirRows  *tables.DirectoryRows // the directory rows this append writes
}

// appendAll locks the stream counter first, so that appends of all nodes
// are serialized and numbered in commit order, then settles idempotency
// keys, numbers the events and copies them in.
func (a *appender) appendAll(ctx context.Context, batches []*trail.Batch) error {
	err := a.tx.QueryRow(ctx, "SELECT next_pos FROM stream_pos WHERE one = 1 FOR UPDATE").Scan(&a.pos)
	if err != nil {
		return fmt.Errorf("lock stream position: %w", err)
	}
	if a.replayed, err = claimKeys(ctx, a.tx, batches, a.now); err != nil {
		return err
	}
	var store []*trail.Batch
	for _, b := range batches {
		if _, ok := a.replayed[b]; !ok {
			store = append(store, b)
		}
	}
	if err := a.number(ctx, store); err != nil {
		return err
	}
	return copyEvents(ctx, a.tx, store, a.search)
}

// number gives every event of batches its Seq and Pos, and advances the
// counters. Tenant counters are locked in sorted order after the stream
// counter, so concurrent appends never wait for each other in a cycle.
func (a *appender) number(ctx context.Context, batches []*trail.Batch) error {
	counts := map[string]int64{}
	var total int64
	for _, b := range batches {
		for _, e := range b.Events {
			counts[e.Tenant]++
			total++
		}
	}
	if total == 0 {
		return nil
	}
	tenants := make([]string, 0, len(counts))
	for t := range counts {
		tenants = append(tenants, t)
	}
	sort.Strings(tenants)
	a.dirRows = a.dir.Fresh(batches)
	next, err := a.advanceSeqs(ctx, tenants, counts, a.pos+total, actionsOf(batches))
	if err != nil {
		return err
	}
	for _, b := range batches {
		for _, e := range b.Events {
			e.Seq, e.Pos = next[e.Tenant], a.pos
			next[e.Tenant]++
			a.pos++
		}
	}
	return nil
}

// advanceSeqs reserves counts[t] numbers of each tenant's log, saves the
// stream position end and records actions, in one round trip, and returns
// the first number reserved for each tenant, and writes the directory rows
// that the cache does not know. A commit's round trips are
// most of its time when it holds few events, and each waits for the writer
// to be scheduled again: right after a burst, behind a thousand requests.
func (a *appender) advanceSeqs(ctx context.Context, tenants []string, counts map[string]int64, end int64, actions [][2]string) (map[string]int64, error) {
	const q = `INSERT INTO tenant_seqs AS s (tenant, next_seq) VALUES ($1, $2)
		ON CONFLICT (tenant) DO UPDATE SET next_seq = s.next_seq + excluded.next_seq
		RETURNING next_seq - $2`
	var pb pgx.Batch
	for _, t := range tenants {
		pb.Queue(q, t, counts[t])
	}
	pb.Queue("UPDATE stream_pos SET next_pos = $1 WHERE one = 1", end)
	queueActions(&pb, actions)
	dirStatements := queueDirectory(&pb, a.dirRows)
	res := a.tx.SendBatch(ctx, &pb)
	defer res.Close()
	first := make(map[string]int64, len(tenants))
	for _, t := range tenants {
		var n int64
		if err := res.QueryRow().Scan(&n); err != nil {
			return nil, fmt.Errorf("advance seq of tenant %q: %w", t, err)
		}
		first[t] = n
	}
	if _, err := res.Exec(); err != nil {
		return nil, fmt.Errorf("save stream position: %w", err)
	}
	if _, err := res.Exec(); err != nil {
		return nil, fmt.Errorf("insert actions: %w", err)
	}
	for range dirStatements {
		if _, err := res.Exec(); err != nil {
			return nil, fmt.Errorf("record directory: %w", err)
		}
	}
	return first, res.Close()
}

// undo clears the positions given to events of a transaction that did not
// commit, so no caller mistakes them for stored ones.
func undo(batches []*trail.Batch) {
	for _, b := range batches {
		for _, e := range b.Events {
			e.Seq, e.Pos, e.Raw = 0, 0, nil
		}
	}
}

// eventRow returns the events table's columns of e, whose JSON is data.
func eventRow(e *trail.Event, data []byte, search *searchCols) ([]any, error) {
	id, err := parseUUID(e.ID)
	if err != nil {
		return nil, trail.Invalid("id", fmt.Sprintf("event id %q is not a UUID", e.ID))
	}
	return []any{id, e.Tenant, e.Seq, e.Pos, e.Action, e.OccurredAt, e.ReceivedAt,
		e.Actor.Type, e.Actor.ID, e.Actor.Name, e.Context.IP, e.TraceID, string(data), search.of(e), search.pairs(),
		trail.SortKeyOf(trail.SortTargetType, e), trail.SortKeyOf(trail.SortTargetID, e)}, nil
}

var eventColumns = []string{"id", "tenant", "seq", "pos", "action", "occurred_at", "received_at",
	"actor_type", "actor_id", "actor_name", "ip", "trace_id", "data", "search", "search_pairs", "first_target_type", "first_target_id"}

var targetColumns = []string{"tenant", "type", "id", "occurred_at", "event_id"}

// copyEvents writes the events of batches and their targets with COPY, the
// fastest way into PostgreSQL (their actions were recorded by advanceSeqs).
func copyEvents(ctx context.Context, tx pgx.Tx, batches []*trail.Batch, search *searchCols) error {
	var events, ids, targets [][]any
	for _, b := range batches {
		for i, e := range b.Events {
			e.OccurredAt, e.ReceivedAt = trail.NormalTime(e.OccurredAt), trail.NormalTime(e.ReceivedAt)
			data, err := b.EventJSON(i)
			if err != nil {
				return fmt.Errorf("event %s: %w", e.ID, err)
			}
			e.Raw = data
			row, err := eventRow(e, data, search)
			if err != nil {
				return err
			}
			events = append(events, row)
			ids = append(ids, []any{row[0], e.OccurredAt})
			targets = appendTargets(targets, e, row[0])
		}
	}
	if len(events) == 0 {
		return nil
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"event_ids"}, []string{"id", "occurred_at"}, pgx.CopyFromRows(ids)); err != nil {
		return fmt.Errorf("copy event ids: %w", err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"events"}, eventColumns, pgx.CopyFromRows(events)); err != nil {
		return fmt.Errorf("copy events: %w", err)
	}
	if len(targets) > 0 {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"event_targets"}, targetColumns, pgx.CopyFromRows(targets)); err != nil {
			return fmt.Errorf("copy event targets: %w", err)
		}
	}
	return nil
}

// appendTargets adds the event_targets rows of e, once per distinct target.
func appendTargets(rows [][]any, e *trail.Event, id any) [][]any {
	seen := make(map[[2]string]bool, len(e.Targets))
	for _, t := range e.Targets {
		k := [2]string{t.Type, t.ID}
		if seen[k] {
			continue
		}
		seen[k] = true
		rows = append(rows, []any{e.Tenant, t.Type, t.ID, e.OccurredAt, id})
	}
	return rows
}

// actionsOf returns the distinct (tenant, action) pairs of batches.
func actionsOf(batches []*trail.Batch) [][2]string {
	seen := map[[2]string]bool{}
	var out [][2]string
	for _, b := range batches {
		for _, e := range b.Events {
			k := [2]string{e.Tenant, e.Action}
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// queueActions queues the insert of actions into event_actions.
func queueActions(pb *pgx.Batch, actions [][2]string) {
	tenants, names := make([]string, len(actions)), make([]string, len(actions))
	for i, k := range actions {
		tenants[i], names[i] = k[0], k[1]
	}
	pb.Queue(`INSERT INTO event_actions (tenant, action)
		SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING`, tenants, names)
}

// queueDirectory queues the writes of rows, as arrays, and returns how
// many statements it queued.
func queueDirectory(pb *pgx.Batch, rows *tables.DirectoryRows) int {
	n := 0
	if len(rows.Actors) > 0 {
		var tenants, types, ids, names, folds []string
		var days []int64
		for _, r := range rows.Actors {
			tenants, types, ids = append(tenants, r.Tenant), append(types, r.Type), append(ids, r.ID)
			names, folds, days = append(names, r.Name), append(folds, r.Fold), append(days, r.Day)
		}
		pb.Queue(`INSERT INTO `+tables.ActorColumns+` SELECT * FROM unnest($1::text[], $2::text[], $3::text[],
			$4::text[], $5::text[], $6::int8[])`+tables.ActorConflict, tenants, types, ids, names, folds, days)
		n++
	}
	if len(rows.Types) > 0 {
		var tenants, types []string
		var days []int64
		for _, r := range rows.Types {
			tenants, types, days = append(tenants, r.Tenant), append(types, r.Type), append(days, r.Day)
		}
		pb.Queue(`INSERT INTO `+tables.TypeColumns+` SELECT * FROM unnest($1::text[], $2::text[], $3::int8[])`+
			tables.TypeConflict, tenants, types, days)
		n++
	}
	return n
}
