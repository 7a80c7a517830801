package ledger

import (
	"bytes"
	"context"
	"fmt"

	"github.com/trailhq/trail"
)

// openMoves reads the recorded moves out of this log.
func (c *check) openMoves(ctx context.Context) error {
	moves, err := c.src.MovedEvents(ctx, c.tenant)
	if err != nil {
		return fmt.Errorf("log %q: moved events: %w", c.tenant, err)
	}
	c.moves = make(map[int64]*trail.MovedEvent, len(moves))
	for _, m := range moves {
		c.moves[m.Seq] = m
	}
	return nil
}

// moved checks a sealed seq whose event was moved to another log: the
// event stored at the destination, with the tenant and seq it had here,
// must be the sealed one. A destination this reader may not read (the
// operator log, for a tenant's key) is counted, not checked: verifying
// that log with a platform key checks it.
func (c *check) moved(ctx context.Context, m *trail.MovedEvent, sealed []byte) error {
	rows, err := c.v.Source.LedgerRows(ctx, m.ToTenant, m.ToSeq, 1)
	switch code := trail.ErrorCode(err); {
	case code == trail.EFORBIDDEN || code == trail.EUNAUTHORIZED || code == trail.ENOTFOUND && len(rows) == 0 && err != nil:
		c.r.MovedUnread++
		return nil
	case err != nil:
		return fmt.Errorf("log %q: %w", m.ToTenant, readErr(err))
	}
	where := fmt.Sprintf("log %s seq %d", logParam(m.ToTenant).Get("log"), m.ToSeq)
	if len(rows) == 0 || rows[0].Seq != m.ToSeq {
		c.r.add(Problem{Seq: m.Seq, Kind: KindMissing, Detail: fmt.Sprintf(
			"the event sealed here was recorded as moved to %s, where no event is stored", where)})
		return nil
	}
	data, err := rowData(&rows[0])
	var h []byte
	if err == nil {
		data, err = trail.MovedLeaf(m, data)
	}
	if err == nil {
		h, err = LeafHashJSON(data)
	}
	if err != nil || !bytes.Equal(h, sealed) {
		c.r.add(Problem{Seq: m.Seq, Kind: KindModified, Detail: fmt.Sprintf(
			"the event sealed here was recorded as moved to %s, but the event stored there (%s) is not it",
			where, rows[0].Event.ID)})
		return nil
	}
	c.r.Moved++
	return nil
}
