package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// partitionLock is the advisory lock key that serializes partition DDL
// across nodes ("trail-part" as a number).
const partitionLock = 0x747261696c2d7061

// monthsAhead is how many months past the current one get their partitions
// before any event needs them.
const monthsAhead = 3

// partitioned lists the tables partitioned by month of occurred_at; a
// month's partitions of all of them are created together.
var partitioned = []string{"events", "event_targets"}

// partitions remembers which months have partitions, so that an append
// checks its months without asking the database.
type partitions struct {
	mu    sync.Mutex
	known map[time.Time]bool // first instant of the month, UTC
}

func newPartitions() *partitions { return &partitions{known: map[time.Time]bool{}} }

// monthOf returns the first instant of t's month, UTC.
func monthOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// PartitionName returns the name of table's partition for the month of t,
// like events_p202611.
func PartitionName(table string, t time.Time) string {
	m := monthOf(t)
	return fmt.Sprintf("%s_p%04d%02d", table, m.Year(), int(m.Month()))
}

// missing returns the months of events that are not known to have
// partitions.
func (p *partitions) missing(months map[time.Time]bool) []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []time.Time
	for m := range months {
		if !p.known[m] {
			out = append(out, m)
		}
	}
	return out
}

func (p *partitions) add(months []time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range months {
		p.known[m] = true
	}
}

// forget clears the cache, after an insert found a month without its
// partition (dropped by retention on this or another node).
func (p *partitions) forget() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.known)
}

// ensurePartitions creates the partitions of months that are missing, in
// one transaction of its own under an advisory lock, so that two nodes
// creating the same month do not collide. DDL on the partitioned table
// briefly locks it, which is why appends do this before, not inside, their
// own transaction.
func (db *DB) ensurePartitions(ctx context.Context, months map[time.Time]bool) error {
	need := db.parts.missing(months)
	if len(need) == 0 {
		return nil
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(partitionLock)); err != nil {
			return err
		}
		for _, m := range need {
			for _, table := range partitioned {
				if _, err := tx.Exec(ctx, createPartitionSQL(table, m)); err != nil {
					return fmt.Errorf("create partition %s: %w", PartitionName(table, m), err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create partitions: %w", err)
	}
	db.parts.add(need)
	return nil
}

func createPartitionSQL(table string, m time.Time) string {
	const layout = "2006-01-02 15:04:05Z07:00"
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s PARTITION OF %s FOR VALUES FROM ('%s') TO ('%s')",
		pgx.Identifier{PartitionName(table, m)}.Sanitize(), pgx.Identifier{table}.Sanitize(),
		m.Format(layout), m.AddDate(0, 1, 0).Format(layout))
}

// ensureAhead creates the partitions of the current month and the next
// monthsAhead months.
func (db *DB) ensureAhead(ctx context.Context) error {
	months := map[time.Time]bool{}
	m := monthOf(db.now())
	for i := 0; i <= monthsAhead; i++ {
		months[m.AddDate(0, i, 0)] = true
	}
	return db.ensurePartitions(ctx, months)
}

// Partitions returns the months that have event partitions, oldest first:
// what retention and archiving work on.
func (db *DB) Partitions(ctx context.Context) ([]time.Time, error) {
	rows, err := db.pool.Query(ctx, `SELECT c.relname FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'events'::regclass ORDER BY c.relname`)
	if err != nil {
		return nil, wrap(fmt.Errorf("list partitions: %w", err))
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, wrap(fmt.Errorf("list partitions: %w", err))
	}
	var months []time.Time
	for _, n := range names {
		if t, err := time.Parse("200601", strings.TrimPrefix(n, "events_p")); err == nil {
			months = append(months, t)
		}
	}
	return months, nil
}

// EnsurePartitions creates the partitions of every month from the month of
// from to the month of to, for bulk loads and restores that write events
// with SQL of their own.
func (db *DB) EnsurePartitions(ctx context.Context, from, to time.Time) error {
	months := map[time.Time]bool{}
	for m := monthOf(from); !m.After(to); m = m.AddDate(0, 1, 0) {
		months[m] = true
	}
	return wrap(db.ensurePartitions(ctx, months))
}
