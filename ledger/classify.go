package ledger

import (
	"bytes"
	"context"
	"fmt"

	"github.com/trailhq/trail"
)

// window is how many stored rows on each side of a bad seq the verifier
// searches for the event that was sealed there.
const window = 256

// classify names what is wrong at row.Seq, whose event has leaf hash h
// where the ledger sealed a leaf with hash sealed. Two questions decide it:
// is the stored event one the ledger sealed at another seq (its own seq
// says where, and the leaf stored there must match), and is the event
// sealed at this seq still stored somewhere nearby?
func (c *check) classify(ctx context.Context, row *trail.LedgerRow, h, sealed []byte) (Problem, error) {
	seq, e := row.Seq, row.Event
	from := int64(-1) // where the stored event was sealed, if elsewhere
	if e.Seq != seq && e.Seq >= c.prefix && e.Seq < c.cp.Size {
		there, err := c.t.leaf(ctx, e.Seq)
		if err != nil {
			return Problem{}, err
		}
		if bytes.Equal(there, h) {
			from = e.Seq
		}
	}
	at, id, err := c.findSealed(ctx, row, sealed)
	if err != nil {
		return Problem{}, err
	}
	p := Problem{Seq: seq}
	switch {
	case from >= 0 && at >= 0:
		p.Kind, p.Detail = KindReordered, fmt.Sprintf(
			"holds event %s, sealed at seq %d; the event sealed here (%s) is stored at seq %d", e.ID, from, id, at)
	case from >= 0:
		p.Kind, p.Detail = KindMissing, fmt.Sprintf(
			"the event sealed here was deleted and later events renumbered: this seq holds event %s, sealed at seq %d", e.ID, from)
	case at == seq:
		p.Kind, p.Detail = KindInserted, fmt.Sprintf(
			"event %s, which the ledger never sealed, is stored next to the sealed event %s", e.ID, id)
	case at >= 0:
		p.Kind, p.Detail = KindInserted, fmt.Sprintf(
			"holds event %s, which the ledger never sealed; the event sealed here (%s) is stored at seq %d", e.ID, id, at)
	default:
		p.Kind, p.Detail = KindModified, fmt.Sprintf(
			"event %s differs from the event sealed here (leaf hash %x, sealed %x)", e.ID, h[:8], sealed[:8])
	}
	return p, nil
}

// findSealed looks for the event sealed at row.Seq among the rows stored
// near it, other than row: one whose own seq is row.Seq and whose leaf is
// the sealed one. It returns the seq it is stored at and its id, or -1.
func (c *check) findSealed(ctx context.Context, row *trail.LedgerRow, sealed []byte) (int64, string, error) {
	from := max(0, row.Seq-window)
	rows, err := c.src.LedgerRows(ctx, c.tenant, from, 2*window+1)
	if err != nil {
		return -1, "", fmt.Errorf("log %q: %w", c.tenant, err)
	}
	for _, r := range rows {
		if r.Event.Seq != row.Seq || r.Seq == row.Seq && r.Event.ID == row.Event.ID {
			continue
		}
		h, err := rowLeaf(&r)
		if err != nil {
			return -1, "", err
		}
		if bytes.Equal(h, sealed) {
			return r.Seq, r.Event.ID, nil
		}
	}
	return -1, "", nil
}
