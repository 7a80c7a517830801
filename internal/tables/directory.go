package tables

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/trailhq/trail"
)

// The directory of actors and target types (migration 25) is written by
// each store's append, in the append's transaction, from the rows that
// Directory.Fresh returns; SQLite sends them as VALUES, PostgreSQL as
// arrays, both ending with these conflict clauses. A row already there is
// rewritten only when its day moved on (or its name's fold changed), so
// that an actor seen again the same day costs no write even when the
// cache has forgotten it.
const (
	ActorColumns  = "event_actors (tenant, type, id, name, fold, last_day)"
	ActorConflict = ` ON CONFLICT (tenant, id, type, name) DO UPDATE SET last_day = excluded.last_day, fold = excluded.fold
		WHERE event_actors.last_day < excluded.last_day OR event_actors.fold <> excluded.fold`
	TypeColumns  = "event_target_types (tenant, type, last_day)"
	TypeConflict = ` ON CONFLICT (tenant, type) DO UPDATE SET last_day = excluded.last_day
		WHERE event_target_types.last_day < excluded.last_day`
)

// ActorRow is a row of event_actors to write.
type ActorRow struct {
	Tenant, Type, ID, Name, Fold string
	Day                          int64
}

// TypeRow is a row of event_target_types to write.
type TypeRow struct {
	Tenant, Type string
	Day          int64
}

// DirectoryRows are the directory rows of one append.
type DirectoryRows struct {
	Actors []ActorRow
	Types  []TypeRow
}

// dirKey names an entry: an actor's name (Target false) or a target type
// (Type only).
type dirKey struct {
	tenant, typ, id, name string
	target                bool
}

// directoryCacheSize bounds each of the cache's two generations: at about
// 20 bytes an entry, the cache stays under 6 MB.
const directoryCacheSize = 1 << 17

// Directory remembers, for this process, the directory entries that
// commits wrote and the day they wrote, so that an append of known actors
// and target types on a day already written sends nothing. It keeps a
// 64-bit hash of each entry (two entries that share one, a chance of about
// one in 10^8 among 2^18 entries, would keep the second out of the
// directory until the cache forgets the first) in two generations of at
// most directoryCacheSize: when the newer is full the older is dropped, so
// what is used stays and memory is bounded. Its zero value is ready; it is
// safe for concurrent use.
type Directory struct {
	mu       sync.Mutex
	seed     maphash.Seed // made at the first use
	seeded   bool
	cur, old map[uint64]int64
}

// hash is the cache's key of k; d.mu is held.
func (d *Directory) hash(k dirKey) uint64 {
	if !d.seeded {
		d.seed, d.seeded = maphash.MakeSeed(), true
	}
	var h maphash.Hash
	h.SetSeed(d.seed)
	for _, s := range []string{k.tenant, k.typ, k.id, k.name} {
		h.WriteString(s)
		h.WriteByte(0)
	}
	if k.target {
		h.WriteByte(1)
	}
	return h.Sum64()
}

// Fresh returns the directory rows of the events of batches (the batches
// a commit stores) that the cache does not know for their day, one row per
// entry with its latest day, in key order, so that concurrent commits touch
// rows in the same order.
func (d *Directory) Fresh(batches []*trail.Batch) *DirectoryRows {
	d.mu.Lock()
	defer d.mu.Unlock()
	want := map[dirKey]int64{}
	note := func(k dirKey, day int64) {
		if seen, ok := d.lookup(k); ok && seen >= day {
			return
		}
		if prev, ok := want[k]; !ok || day > prev {
			want[k] = day
		}
	}
	for _, b := range batches {
		for _, e := range b.Events {
			day := trail.DirectoryDay(e.OccurredAt)
			if e.Actor.ID != "" {
				note(dirKey{tenant: e.Tenant, typ: e.Actor.Type, id: e.Actor.ID, name: e.Actor.Name}, day)
			}
			for _, t := range e.Targets {
				if t.Type != "" {
					note(dirKey{tenant: e.Tenant, typ: t.Type, target: true}, day)
				}
			}
		}
	}
	return rowsOf(want)
}

func rowsOf(want map[dirKey]int64) *DirectoryRows {
	rows := &DirectoryRows{}
	for k, day := range want {
		if k.target {
			rows.Types = append(rows.Types, TypeRow{k.tenant, k.typ, day})
		} else {
			rows.Actors = append(rows.Actors, ActorRow{k.tenant, k.typ, k.id, k.name, trail.FoldName(k.name), day})
		}
	}
	slices.SortFunc(rows.Actors, func(a, b ActorRow) int {
		return cmp.Or(cmp.Compare(a.Tenant, b.Tenant), cmp.Compare(a.ID, b.ID), cmp.Compare(a.Type, b.Type), cmp.Compare(a.Name, b.Name))
	})
	slices.SortFunc(rows.Types, func(a, b TypeRow) int {
		return cmp.Or(cmp.Compare(a.Tenant, b.Tenant), cmp.Compare(a.Type, b.Type))
	})
	return rows
}

// lookup returns the day the cache knows for k, moving an entry of the
// older generation to the newer one.
func (d *Directory) lookup(k dirKey) (int64, bool) {
	h := d.hash(k)
	if day, ok := d.cur[h]; ok {
		return day, true
	}
	day, ok := d.old[h]
	if ok {
		d.put(h, day)
	}
	return day, ok
}

func (d *Directory) put(h uint64, day int64) {
	if d.cur == nil || len(d.cur) >= directoryCacheSize {
		d.old, d.cur = d.cur, make(map[uint64]int64)
	}
	if prev, ok := d.cur[h]; !ok || day > prev {
		d.cur[h] = day
	}
}

// Remember records rows, once the commit that wrote them is durable.
func (d *Directory) Remember(rows *DirectoryRows) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, r := range rows.Actors {
		d.put(d.hash(dirKey{tenant: r.Tenant, typ: r.Type, id: r.ID, name: r.Name}), r.Day)
	}
	for _, r := range rows.Types {
		d.put(d.hash(dirKey{tenant: r.Tenant, typ: r.Type, target: true}), r.Day)
	}
}

// Len returns how many entries the cache holds, for tests.
func (d *Directory) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.cur) + len(d.old)
}

// forget empties the cache: entries it holds may have been pruned.
func (d *Directory) forget() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cur, d.old = nil, nil
}

// DirectoryCache is the cache of the store's appends.
func (t *Tables) DirectoryCache() *Directory { return &t.dir }

// tenantIn is the condition that keeps rows of scope: its tenant's and
// the system events' ("").
func tenantIn(scope trail.Scope) (string, []any) {
	if scope.All {
		return "1 = 1", nil
	}
	return "tenant IN (?, '')", []any{scope.Tenant}
}

// TargetTypes lists the distinct target types visible in scope, sorted.
func (t *Tables) TargetTypes(ctx context.Context, scope trail.Scope) ([]string, error) {
	where, args := tenantIn(scope)
	out, err := t.column(ctx, "SELECT DISTINCT type FROM event_target_types WHERE "+where+" ORDER BY type", args...)
	if err != nil {
		return nil, fmt.Errorf("list target types: %w", err)
	}
	return out, nil
}

// PruneDirectory forgets tenant's actor names and target types last seen
// on a day before the day of before, and empties the cache, which may
// hold them.
func (t *Tables) PruneDirectory(ctx context.Context, tenant string, before time.Time) (int64, error) {
	day := trail.DirectoryDay(before)
	var total int64
	for _, table := range []string{"event_actors", "event_target_types"} {
		n, err := t.exec(ctx, "DELETE FROM "+table+" WHERE tenant = ? AND last_day < ?", tenant, day)
		if err != nil {
			return total, fmt.Errorf("prune directory: %w", err)
		}
		total += n
	}
	t.dir.forget()
	return total, nil
}

// prefixEnd is past every string that starts with p: byte order, the
// order of both stores' text here, puts no character after U+10FFFF.
func prefixEnd(p string) string { return p + "\U0010FFFF" }

// actorKey names an actor of the directory.
type actorKey struct{ tenant, typ, id string }

// Actors looks actors up by the start of a recent name (ignoring case)
// and then of their id. It reads at most a few rows per actor wanted
// from each index, then every name of the actors found.
func (t *Tables) Actors(ctx context.Context, q *trail.ActorQuery) ([]*trail.ActorEntry, error) {
	where, args := tenantIn(q.Scope)
	limit := min(max(q.Limit, 1), trail.MaxActorLimit)
	var keys []actorKey
	seen := map[actorKey]bool{}
	for _, by := range []struct{ col, prefix, order string }{
		{"fold", trail.FoldName(q.Prefix), "fold, type, id"},
		{"id", q.Prefix, "id, type"},
	} {
		sql := "SELECT tenant, type, id FROM event_actors WHERE " + where + " AND " + by.col + " >= ? AND " +
			by.col + " < ? ORDER BY " + by.order + " LIMIT ?"
		found, err := query(t, ctx, scanActorKey, sql, append(slices.Clip(args), by.prefix, prefixEnd(by.prefix), 4*limit)...)
		if err != nil {
			return nil, fmt.Errorf("look actors up: %w", err)
		}
		for _, k := range found {
			if len(keys) < limit && !seen[*k] {
				seen[*k] = true
				keys = append(keys, *k)
			}
		}
	}
	return t.actorEntries(ctx, keys)
}

func scanActorKey(rows *sql.Rows, k *actorKey) error { return rows.Scan(&k.tenant, &k.typ, &k.id) }

// actorEntries reads every name of the actors keys, and returns them in
// the order of keys.
func (t *Tables) actorEntries(ctx context.Context, keys []actorKey) ([]*trail.ActorEntry, error) {
	out := []*trail.ActorEntry{}
	if len(keys) == 0 {
		return out, nil
	}
	vals, args := make([]string, len(keys)), make([]any, 0, 3*len(keys))
	for i, k := range keys {
		vals[i] = "(?, ?, ?)"
		args = append(args, k.tenant, k.typ, k.id)
	}
	rows, err := query(t, ctx, scanActorName, `SELECT tenant, type, id, name, last_day FROM event_actors
		WHERE (tenant, type, id) IN (VALUES `+strings.Join(vals, ", ")+`) ORDER BY last_day DESC, name`, args...)
	if err != nil {
		return nil, fmt.Errorf("read actor names: %w", err)
	}
	byKey := make(map[actorKey]*trail.ActorEntry, len(keys))
	for _, k := range keys {
		e := &trail.ActorEntry{Tenant: k.tenant, Type: k.typ, ID: k.id}
		byKey[k] = e
		out = append(out, e)
	}
	for _, r := range rows {
		e := byKey[r.key]
		if e.LastSeen.IsZero() {
			e.Name, e.LastSeen = r.name, trail.DayTime(r.day)
		} else {
			e.OtherNames = append(e.OtherNames, r.name)
		}
	}
	// An actor pruned between the two reads has no name left: leave it out.
	return slices.DeleteFunc(out, func(e *trail.ActorEntry) bool { return e.LastSeen.IsZero() }), nil
}

type actorName struct {
	key  actorKey
	name string
	day  int64
}

func scanActorName(rows *sql.Rows, n *actorName) error {
	return rows.Scan(&n.key.tenant, &n.key.typ, &n.key.id, &n.name, &n.day)
}
