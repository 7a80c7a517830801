package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/trailhq/trail"
)

// SortOperatorLog moves Trail's own records of operator activity stored
// before the upgrade from the system log to the operator log (see
// trail.OperatorSort).
func (db *DB) SortOperatorLog(ctx context.Context, limit int) (int, bool, error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, false, wrap("sort operator log", err)
	}
	defer rollback(tx)
	var st trail.SortState
	err = tx.QueryRowContext(ctx, `SELECT s.before_pos, s.next_seq, coalesce(h.size, 0) FROM operator_sort s
		LEFT JOIN ledger_heads h ON h.tenant = ''`).Scan(&st.BeforePos, &st.NextSeq, &st.Sealed)
	if err == sql.ErrNoRows {
		return 0, true, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("sort operator log: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT pos, seq, data FROM events WHERE tenant = '' AND seq >= ? AND seq < ?
		AND pos < ? ORDER BY seq LIMIT ?`, st.NextSeq, st.Sealed, st.BeforePos, limit)
	if err != nil {
		return 0, false, fmt.Errorf("sort operator log: %w", err)
	}
	err = st.Scan(rows, limit)
	rows.Close()
	if err == nil && st.Finished {
		err = tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM events WHERE tenant = '' AND seq >= ? AND pos < ?)",
			st.Sealed, st.BeforePos).Scan(&st.Unsealed)
	}
	var gen int64
	if err == nil {
		gen, err = db.moveOwn(ctx, tx, &st)
	}
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		return 0, false, wrap("sort operator log", err)
	}
	db.forgetPostings(ctx, st.Originals(), gen)
	db.wakeMerger()
	db.wakeCheckpointer()
	return len(st.Moves), st.Done(), nil
}

// moveOwn deletes the events st chose from the system log and appends
// their copies to the operator log in tx, recording each move, then saves
// how far the sort got. It returns deleteEventRows's count.
func (db *DB) moveOwn(ctx context.Context, tx *sql.Tx, st *trail.SortState) (int64, error) {
	var gen int64
	if len(st.Moves) > 0 {
		var err error
		if gen, err = deleteEventRows(ctx, tx, st.Originals()); err != nil {
			return 0, err
		}
		copies := st.Copies()
		if err := db.newAppender(tx).appendAll(ctx, []*trail.Batch{copies}); err != nil {
			return 0, err
		}
		for i, m := range st.Moves {
			_, err := tx.ExecContext(ctx, `INSERT INTO ledger_moves (tenant, seq, to_tenant, to_seq, moved_at)
				VALUES (?, ?, ?, ?, ?)`, m.Tenant, m.Seq, m.ToTenant, copies.Events[i].Seq, db.now().UnixMicro())
			if err != nil {
				return 0, fmt.Errorf("record move: %w", err)
			}
		}
	}
	query, args := "UPDATE operator_sort SET next_seq = ?", []any{st.NextSeq}
	if st.Done() {
		query, args = "DELETE FROM operator_sort", nil
	}
	_, err := tx.ExecContext(ctx, query, args...)
	return gen, err
}
