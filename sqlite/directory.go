package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/tables"
)

// directoryChunk is how many rows one statement writes: 6 variables a
// row stays far below SQLite's limit of 32766.
const directoryChunk = 500

// stored returns the batches of an append that are stored, not replayed.
func (a *appender) stored(batches []*trail.Batch) []*trail.Batch {
	out := make([]*trail.Batch, 0, len(batches))
	for _, b := range batches {
		if _, ok := a.replayed[b]; !ok {
			out = append(out, b)
		}
	}
	return out
}

// writeDirectory adds the actors and target types of the stored batches
// that the cache does not know to the directory, and returns what it wrote
// for the cache to remember once the commit is durable.
func (a *appender) writeDirectory(ctx context.Context, batches []*trail.Batch) (*tables.DirectoryRows, error) {
	rows := a.db.settings.DirectoryCache().Fresh(a.stored(batches))
	for i := 0; i < len(rows.Actors); i += directoryChunk {
		chunk := rows.Actors[i:min(i+directoryChunk, len(rows.Actors))]
		args := make([]any, 0, 6*len(chunk))
		for _, r := range chunk {
			args = append(args, r.Tenant, r.Type, r.ID, r.Name, r.Fold, r.Day)
		}
		if err := insertRows(ctx, a.tx, tables.ActorColumns, tables.ActorConflict, 6, args); err != nil {
			return nil, fmt.Errorf("record actors: %w", err)
		}
	}
	for i := 0; i < len(rows.Types); i += directoryChunk {
		chunk := rows.Types[i:min(i+directoryChunk, len(rows.Types))]
		args := make([]any, 0, 3*len(chunk))
		for _, r := range chunk {
			args = append(args, r.Tenant, r.Type, r.Day)
		}
		if err := insertRows(ctx, a.tx, tables.TypeColumns, tables.TypeConflict, 3, args); err != nil {
			return nil, fmt.Errorf("record target types: %w", err)
		}
	}
	return rows, nil
}

// insertRows inserts rows of width values each, args in row order, into
// table (with its column list), ending with conflict.
func insertRows(ctx context.Context, tx *sql.Tx, table, conflict string, width int, args []any) error {
	row := "(?" + strings.Repeat(", ?", width-1) + ")"
	vals := strings.Repeat(row+", ", len(args)/width-1) + row
	_, err := tx.ExecContext(ctx, "INSERT INTO "+table+" VALUES "+vals+conflict, args...)
	return err
}
