package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Trail analyzes its own tables. Autovacuum analyzes a partition only after
// a tenth of its rows changed, and never analyzes a partitioned parent, so
// right after ingest the current month's statistics lag far behind its
// rows and the parent has none. Page queries no longer depend on them (see
// pageSettings), but every other query (exports by other filters, the
// maintenance and retention queries, operators' own SQL) does. So after
// every AnalyzeAfter events appended on a node, one node (under the
// "analyze" lease) analyzes the partitions of the current and the previous
// month, and at most once per parentAnalyzeEvery the partitioned parents
// (which in PostgreSQL 15 also analyzes every partition: a sample of each,
// so it costs reads of a few thousand pages per month, not a scan).
const (
	// DefaultAnalyzeAfter is how many events a node appends between two
	// analyses of the current partitions.
	DefaultAnalyzeAfter = 100_000
	parentAnalyzeEvery  = time.Hour
	analyzeLease        = "analyze"
	analyzeLeaseTTL     = 10 * time.Minute
)

// analyzer counts appended events and wakes the maintenance loop when
// enough were appended.
type analyzer struct {
	after      chan int64 // a new threshold (SetAnalyzeAfter)
	appended   chan int64 // events appended
	holder     string
	lastParent time.Time
}

func newAnalyzer() *analyzer {
	b := make([]byte, 8)
	rand.Read(b)
	return &analyzer{after: make(chan int64), appended: make(chan int64, 64), holder: "node-" + hex.EncodeToString(b)}
}

// SetAnalyzeAfter sets how many events this node appends between two
// analyses of the current month's partitions (DefaultAnalyzeAfter unless
// set); n <= 0 turns Trail's own analyses off.
func (db *DB) SetAnalyzeAfter(n int64) {
	select {
	case db.analyze.after <- n:
	case <-db.done:
	}
}

// noteAppended tells the maintenance loop that n events were appended. It
// never blocks an append: a count the loop has no room for is dropped.
func (db *DB) noteAppended(n int) {
	select {
	case db.analyze.appended <- int64(n):
	default:
	}
}

// analyzeHot analyzes the current and previous month's partitions, and
// the parents when they are due, if no other node is doing so.
func (db *DB) analyzeHot(ctx context.Context) error {
	a := db.analyze
	ok, err := db.AcquireLease(ctx, analyzeLease, a.holder, analyzeLeaseTTL)
	if err != nil || !ok {
		return err
	}
	defer db.ReleaseLease(context.WithoutCancel(ctx), analyzeLease, a.holder)
	now := monthOf(db.now())
	var tables []string
	for _, m := range []time.Time{now.AddDate(0, -1, 0), now} {
		for _, t := range partitioned {
			tables = append(tables, PartitionName(t, m))
		}
	}
	if time.Since(a.lastParent) >= parentAnalyzeEvery {
		tables = append(tables, partitioned...)
	}
	for _, t := range tables {
		var exists bool
		if err := db.pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", t).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			continue
		}
		if _, err := db.pool.Exec(ctx, "ANALYZE "+pgx.Identifier{t}.Sanitize()); err != nil {
			return fmt.Errorf("analyze %s: %w", t, err)
		}
	}
	if len(tables) > 2*len(partitioned) {
		a.lastParent = time.Now()
	}
	return nil
}
