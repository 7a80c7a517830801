package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/trailhq/trail"
)

// SortOperatorLog moves Trail's own records of operator activity stored
// before the upgrade from the system log to the operator log (see
// trail.OperatorSort). The sort's row is locked first, so that nodes take
// turns.
func (db *DB) SortOperatorLog(ctx context.Context, limit int) (int, bool, error) {
	var st trail.SortState
	none := false
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT s.before_pos, s.next_seq, coalesce(h.size, 0) FROM operator_sort s
			LEFT JOIN ledger_heads h ON h.tenant = '' FOR UPDATE OF s`).Scan(&st.BeforePos, &st.NextSeq, &st.Sealed)
		if errors.Is(err, pgx.ErrNoRows) {
			none = true
			return nil
		}
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT pos, seq, data FROM events WHERE tenant = '' AND seq >= $1 AND seq < $2
			AND pos < $3 ORDER BY seq LIMIT $4`, st.NextSeq, st.Sealed, st.BeforePos, limit)
		if err != nil {
			return err
		}
		err = st.Scan(rows, limit)
		rows.Close()
		if err == nil && st.Finished {
			err = tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM events WHERE tenant = '' AND seq >= $1 AND pos < $2)",
				st.Sealed, st.BeforePos).Scan(&st.Unsealed)
		}
		if err != nil {
			return err
		}
		return db.moveOwn(ctx, tx, &st)
	})
	if err != nil {
		return 0, false, fmt.Errorf("sort operator log: %w", wrap(err))
	}
	db.noteAppended(len(st.Moves))
	return len(st.Moves), none || st.Done(), nil
}

// moveOwn deletes the events st chose from the system log and appends
// their copies to the operator log in tx, recording each move, then saves
// how far the sort got.
func (db *DB) moveOwn(ctx context.Context, tx pgx.Tx, st *trail.SortState) error {
	if len(st.Moves) > 0 {
		if err := deleteEventRows(ctx, tx, st.Originals()); err != nil {
			return err
		}
		copies := st.Copies()
		// The copies' directory rows are written again (moved records
		// keep their actors); the cache learns them at the next append.
		a := &appender{tx: tx, now: trail.NormalTime(db.now()), dir: db.settings.DirectoryCache()}
		if err := a.appendAll(ctx, []*trail.Batch{copies}); err != nil {
			return err
		}
		for i, m := range st.Moves {
			_, err := tx.Exec(ctx, `INSERT INTO ledger_moves (tenant, seq, to_tenant, to_seq, moved_at)
				VALUES ($1, $2, $3, $4, $5)`, m.Tenant, m.Seq, m.ToTenant, copies.Events[i].Seq, a.now)
			if err != nil {
				return fmt.Errorf("record move: %w", err)
			}
		}
	}
	if st.Done() {
		_, err := tx.Exec(ctx, "DELETE FROM operator_sort")
		return err
	}
	_, err := tx.Exec(ctx, "UPDATE operator_sort SET next_seq = $1", st.NextSeq)
	return err
}
