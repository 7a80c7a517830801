package postgres

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/trailhq/trail"
)

type idemKey struct{ namespace, key string }

// claimKeys records the idempotency key of every batch that has one, and
// returns the batches whose key was already recorded, with the remembered
// response. The insert uses ON CONFLICT DO NOTHING, so when another node is
// inserting the same key in a transaction still open, it waits for that
// transaction and then sees its row: a retry on another node stores nothing
// twice. A key repeated within batches is claimed by its first batch.
func claimKeys(ctx context.Context, tx pgx.Tx, batches []*trail.Batch, now time.Time) (map[*trail.Batch]*trail.IdempotentResponse, error) {
	replayed := map[*trail.Batch]*trail.IdempotentResponse{}
	firsts := map[idemKey]*trail.Batch{}
	var claims []*trail.Batch
	var pb pgx.Batch
	resp := map[idemKey]*trail.IdempotentResponse{}
	for _, b := range batches {
		k := b.Idempotency
		if k == nil {
			continue
		}
		ik := idemKey{k.Namespace, k.Key}
		if _, ok := firsts[ik]; ok {
			continue
		}
		firsts[ik] = b
		claims = append(claims, b)
		r := k.Response
		if r.CreatedAt.IsZero() {
			r.CreatedAt = now
		}
		r.CreatedAt = trail.NormalTime(r.CreatedAt)
		if r.Body == nil {
			r.Body = []byte{}
		}
		resp[ik] = &r
		pb.Queue(`INSERT INTO idempotency (namespace, key, request_hash, status, body, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
			k.Namespace, k.Key, r.RequestHash, r.Status, r.Body, r.CreatedAt)
	}
	if len(claims) == 0 {
		return replayed, nil
	}
	taken, err := sendClaims(ctx, tx, &pb, claims)
	if err != nil {
		return nil, err
	}
	for _, b := range taken {
		r, err := storedResponse(ctx, tx, b.Idempotency)
		if err != nil {
			return nil, err
		}
		resp[idemKey{b.Idempotency.Namespace, b.Idempotency.Key}] = r
		replayed[b] = r
	}
	for _, b := range batches {
		if k := b.Idempotency; k != nil && firsts[idemKey{k.Namespace, k.Key}] != b {
			replayed[b] = resp[idemKey{k.Namespace, k.Key}]
		}
	}
	return replayed, nil
}

// sendClaims runs the queued inserts in one round trip and returns the
// batches whose key was recorded before.
func sendClaims(ctx context.Context, tx pgx.Tx, pb *pgx.Batch, claims []*trail.Batch) ([]*trail.Batch, error) {
	res := tx.SendBatch(ctx, pb)
	defer res.Close()
	var taken []*trail.Batch
	for _, b := range claims {
		tag, err := res.Exec()
		if err != nil {
			return nil, fmt.Errorf("store idempotency key: %w", err)
		}
		if tag.RowsAffected() == 0 {
			taken = append(taken, b)
		}
	}
	return taken, res.Close()
}

func storedResponse(ctx context.Context, tx pgx.Tx, k *trail.Idempotency) (*trail.IdempotentResponse, error) {
	var r trail.IdempotentResponse
	err := tx.QueryRow(ctx, `SELECT request_hash, status, body, created_at FROM idempotency
		WHERE namespace = $1 AND key = $2`, k.Namespace, k.Key).Scan(&r.RequestHash, &r.Status, &r.Body, &r.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("read idempotency key: %w", err)
	}
	r.CreatedAt = r.CreatedAt.UTC()
	return &r, nil
}

// PruneIdempotency forgets idempotency keys stored before t.
func (db *DB) PruneIdempotency(ctx context.Context, before time.Time) (int64, error) {
	tag, err := db.pool.Exec(ctx, "DELETE FROM idempotency WHERE created_at < $1", before)
	if err != nil {
		return 0, fmt.Errorf("prune idempotency keys: %w", wrap(err))
	}
	return tag.RowsAffected(), nil
}

// isUniqueViolation reports whether err is a unique or primary key
// violation.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// parseUUID turns an id in the form trail.NewID makes into its 16 bytes.
func parseUUID(s string) ([16]byte, error) {
	var u [16]byte
	if !trail.ValidID(s) {
		return u, fmt.Errorf("not a UUID: %q", s)
	}
	var hexDigits [32]byte
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '-' {
			hexDigits[n] = s[i]
			n++
		}
	}
	_, err := hex.Decode(u[:], hexDigits[:])
	return u, err
}
