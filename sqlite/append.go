package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/tables"
)

// AppendBatches stores every batch in one transaction, assigning Seq and
// Pos in commit order, and returns once the commit is fsynced. A batch whose
// idempotency key was stored before (or earlier in the same call) is not
// stored; its Replayed is set to the remembered response instead. On error
// nothing is stored, and Seq, Pos and Replayed are left unset.
func (db *DB) AppendBatches(ctx context.Context, batches []*trail.Batch) error {
	if err := db.checkFile(); err != nil {
		return fmt.Errorf("append batch: %w", err)
	}
	// The commit runs on one OS thread (SQLite's work happens in the cgo
	// calls), so that thread's CPU time is the commit's: the serial work
	// of ingest, told apart from waiting for a core or for the disk.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu := threadCPU()
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return wrap("append batch", err)
	}
	start := time.Now()
	a := db.newAppender(tx)
	err = a.appendAll(ctx, batches)
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		rollback(tx)
		a.undo(batches)
		return wrap("append batch", err)
	}
	db.commits.Add(int64(time.Since(start)))
	db.commitCPU.Add(int64(threadCPU() - cpu))
	for b, r := range a.replayed {
		b.Replayed = r
	}
	db.settings.DirectoryCache().Remember(a.dir)
	if !db.segments.noIndex {
		db.fresh.add(batches, a.replayed)
	}
	db.wakeMerger()
	db.wakeSearch(batches) // searchindex.go
	db.wakeCheckpointer()
	return nil
}

type idemKey struct{ namespace, key string }

// appender is the state of one AppendBatches transaction.
type appender struct {
	db       *DB
	tx       *sql.Tx
	now      time.Time
	pos      int64            // next stream position
	seqs     map[string]int64 // next Seq of each tenant touched so far
	keys     map[idemKey]*trail.IdempotentResponse
	replayed map[*trail.Batch]*trail.IdempotentResponse
	actions  map[[2]string]bool
	dir      *tables.DirectoryRows // the directory rows written
	ins      *rowBuffer            // the events' rows
}

// newAppender returns the state of an append in tx.
func (db *DB) newAppender(tx *sql.Tx) *appender {
	return &appender{
		db: db, tx: tx, now: db.now().UTC(), ins: newEventRows(),
		seqs: map[string]int64{}, keys: map[idemKey]*trail.IdempotentResponse{},
		replayed: map[*trail.Batch]*trail.IdempotentResponse{}, actions: map[[2]string]bool{},
	}
}

func (a *appender) appendAll(ctx context.Context, batches []*trail.Batch) error {
	if err := a.tx.QueryRowContext(ctx, "SELECT next_pos FROM stream_pos WHERE one = 1").Scan(&a.pos); err != nil {
		return fmt.Errorf("read stream position: %w", err)
	}
	for _, b := range batches {
		if err := a.appendBatch(ctx, b); err != nil {
			return err
		}
	}
	if err := a.ins.flush(ctx, a.tx); err != nil {
		return err
	}
	var err error
	if a.dir, err = a.writeDirectory(ctx, batches); err != nil {
		return err
	}
	return a.saveCounters(ctx)
}

func (a *appender) appendBatch(ctx context.Context, b *trail.Batch) error {
	if b.Idempotency != nil {
		r, err := a.lookupKey(ctx, b.Idempotency)
		if err != nil {
			return err
		}
		if r != nil {
			a.replayed[b] = r
			return nil
		}
	}
	for i := range b.Events {
		if err := a.appendEvent(ctx, b, i); err != nil {
			return err
		}
	}
	if b.Idempotency != nil {
		return a.storeKey(ctx, b.Idempotency)
	}
	return nil
}

func (a *appender) appendEvent(ctx context.Context, b *trail.Batch, i int) error {
	e := b.Events[i]
	seq, err := a.nextSeq(ctx, e.Tenant)
	if err != nil {
		return err
	}
	e.Seq, e.Pos = seq, a.pos
	a.pos++
	e.OccurredAt, e.ReceivedAt = trail.NormalTime(e.OccurredAt), trail.NormalTime(e.ReceivedAt)
	data, err := b.EventJSON(i)
	if err != nil {
		return fmt.Errorf("event %s: %w", e.ID, err)
	}
	e.Raw = data
	if err := insertEvent(ctx, a.tx, a.ins, e, data); err != nil {
		return err
	}
	if k := [2]string{e.Tenant, e.Action}; !a.actions[k] {
		a.actions[k] = true
		_, err := a.tx.ExecContext(ctx, "INSERT OR IGNORE INTO event_actions (tenant, action) VALUES (?, ?)",
			e.Tenant, e.Action)
		if err != nil {
			return fmt.Errorf("insert action: %w", err)
		}
	}
	return nil
}

// nextSeq returns the next Seq of tenant's log, reading its counter once
// per transaction.
func (a *appender) nextSeq(ctx context.Context, tenant string) (int64, error) {
	seq, ok := a.seqs[tenant]
	if !ok {
		err := a.tx.QueryRowContext(ctx, "SELECT next_seq FROM tenant_seqs WHERE tenant = ?", tenant).Scan(&seq)
		if err != nil && err != sql.ErrNoRows {
			return 0, fmt.Errorf("read seq of tenant %q: %w", tenant, err)
		}
	}
	a.seqs[tenant] = seq + 1
	return seq, nil
}

func (a *appender) saveCounters(ctx context.Context) error {
	for tenant, next := range a.seqs {
		_, err := a.tx.ExecContext(ctx, `INSERT INTO tenant_seqs (tenant, next_seq) VALUES (?, ?)
			ON CONFLICT (tenant) DO UPDATE SET next_seq = excluded.next_seq`, tenant, next)
		if err != nil {
			return fmt.Errorf("save seq of tenant %q: %w", tenant, err)
		}
	}
	_, err := a.tx.ExecContext(ctx, "UPDATE stream_pos SET next_pos = ? WHERE one = 1", a.pos)
	if err != nil {
		return fmt.Errorf("save stream position: %w", err)
	}
	return nil
}

// lookupKey returns the response remembered for key, from this transaction
// or the table, or nil.
func (a *appender) lookupKey(ctx context.Context, k *trail.Idempotency) (*trail.IdempotentResponse, error) {
	if r, ok := a.keys[idemKey{k.Namespace, k.Key}]; ok {
		return r, nil
	}
	var r trail.IdempotentResponse
	var created sql.NullInt64
	err := a.tx.QueryRowContext(ctx, `SELECT request_hash, status, body, created_at FROM idempotency
		WHERE namespace = ? AND key = ?`, k.Namespace, k.Key).Scan(&r.RequestHash, &r.Status, &r.Body, &created)
	switch {
	case err == sql.ErrNoRows:
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("read idempotency key: %w", err)
	}
	r.CreatedAt = fromMicros(created)
	return &r, nil
}

func (a *appender) storeKey(ctx context.Context, k *trail.Idempotency) error {
	r := k.Response
	if r.CreatedAt.IsZero() {
		r.CreatedAt = a.now
	}
	r.CreatedAt = trail.NormalTime(r.CreatedAt)
	if r.Body == nil {
		r.Body = []byte{}
	}
	_, err := a.tx.ExecContext(ctx, `INSERT INTO idempotency (namespace, key, request_hash, status, body, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, k.Namespace, k.Key, r.RequestHash, r.Status, r.Body, r.CreatedAt.UnixMicro())
	if err != nil {
		return fmt.Errorf("store idempotency key: %w", err)
	}
	a.keys[idemKey{k.Namespace, k.Key}] = &r
	return nil
}

// undo clears the positions given to events of a transaction that did not
// commit, so no caller mistakes them for stored ones.
func (a *appender) undo(batches []*trail.Batch) {
	for _, b := range batches {
		for _, e := range b.Events {
			e.Seq, e.Pos, e.Raw = 0, 0, nil
		}
	}
}
