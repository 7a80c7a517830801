package ledger

import (
	"context"
	"fmt"

	"github.com/trailhq/trail"
	"github.com/transparency-dev/merkle/compact"
)

// maxCachedLogs bounds how many logs' edge state the sequencer keeps;
// past it the cache starts over and states are read again from the store.
const maxCachedLogs = 4096

// logState is the sequencer's view of one log: its size, the compact
// range of its tree, and the partial tile at the right edge of each level,
// which the next leaves extend.
type logState struct {
	tenant string
	size   int64
	rng    *compact.Range
	edges  map[int][]byte // level -> hashes of the partial tile at the edge
}

// Step integrates one batch of new events (at most BatchSize) and signs a
// checkpoint for every log that grew, in one store transaction. It returns
// how many events it integrated, plus how many it moved to the operator log
// (see trail.OperatorSort): a round that returns 0 left nothing to do. Run calls it; tests and tools may call it
// directly for a deterministic round.
func (l *Ledger) Step(ctx context.Context) (int, error) {
	if l.logs == nil {
		l.cursor, l.logs = -1, map[string]*logState{}
	}
	n, err := l.step(ctx)
	if err == nil && !l.sorted {
		// Once per process, until it is done: Trail's own operator
		// records that older releases kept in the system log move to the
		// operator log once they are sealed, and the next rounds seal
		// their copies there (trail.OperatorSort).
		var moved int
		moved, l.sorted, err = l.store.SortOperatorLog(ctx, l.cfg.BatchSize)
		n += moved
	}
	if err != nil {
		// Whatever was cached may be what a newer sequencer overtook, or
		// half of a failed round: read it all again next time.
		l.cursor, l.logs = -1, map[string]*logState{}
	}
	return n, err
}

func (l *Ledger) step(ctx context.Context) (int, error) {
	if l.cursor < 0 {
		c, err := l.store.LedgerCursor(ctx)
		if err != nil {
			return 0, fmt.Errorf("ledger cursor: %w", err)
		}
		l.cursor = c
	}
	events, err := l.store.LedgerStream(ctx, l.cursor, l.cfg.BatchSize)
	if err != nil || len(events) == 0 {
		return 0, err
	}
	commit := &trail.LedgerCommit{After: l.cursor, Cursor: events[len(events)-1].Pos,
		Tiles: map[string][]*trail.LedgerTile{}}
	next, err := l.grow(ctx, events, commit)
	if err != nil {
		return 0, err
	}
	if err := l.store.CommitLedger(ctx, commit); err != nil {
		return 0, fmt.Errorf("commit ledger round: %w", err)
	}
	l.cursor = commit.Cursor
	if len(l.logs)+len(next) > maxCachedLogs {
		l.logs = map[string]*logState{}
	}
	for tenant, st := range next {
		l.logs[tenant] = st
	}
	return len(events), nil
}

// grow extends every log that events belong to, adding its new head and
// tiles to commit, and returns the grown states.
func (l *Ledger) grow(ctx context.Context, events []trail.LedgerEntry, commit *trail.LedgerCommit) (map[string]*logState, error) {
	order, byLog := groupByLog(events)
	next := map[string]*logState{}
	for _, tenant := range order {
		st, err := l.state(ctx, tenant)
		if err != nil {
			return nil, err
		}
		grown, tiles, err := st.extend(byLog[tenant])
		if err != nil {
			return nil, err
		}
		head, err := l.head(grown)
		if err != nil {
			return nil, err
		}
		commit.Heads = append(commit.Heads, head)
		commit.Tiles[tenant] = tiles
		next[tenant] = grown
	}
	return next, nil
}

// groupByLog splits a stream batch into logs, keeping each log's events in
// stream order (which is its Seq order) and the logs in order of first
// appearance.
func groupByLog(events []trail.LedgerEntry) ([]string, map[string][]trail.LedgerEntry) {
	var order []string
	by := map[string][]trail.LedgerEntry{}
	for _, e := range events {
		if _, ok := by[e.Tenant]; !ok {
			order = append(order, e.Tenant)
		}
		by[e.Tenant] = append(by[e.Tenant], e)
	}
	return order, by
}

// head signs the checkpoint of st.
func (l *Ledger) head(st *logState) (*trail.LedgerHead, error) {
	c := Checkpoint{Origin: LogOrigin(l.cfg.Origin, st.tenant), Size: st.size, Root: rootOf(st.rng)}
	note, err := l.cfg.Key.SignCheckpoint(c)
	if err != nil {
		return nil, err
	}
	return &trail.LedgerHead{Tenant: st.tenant, Size: st.size, Checkpoint: note, UpdatedAt: l.cfg.Now().UTC()}, nil
}

// state returns the sequencer's state of tenant's log, reading it from the
// stored head and tiles when it is not cached.
func (l *Ledger) state(ctx context.Context, tenant string) (*logState, error) {
	if st, ok := l.logs[tenant]; ok {
		return st, nil
	}
	st := &logState{tenant: tenant, rng: factory.NewEmptyRange(0), edges: map[int][]byte{}}
	head, err := l.store.LedgerHead(ctx, tenant)
	switch {
	case trail.ErrorCode(err) == trail.ENOTFOUND:
		return st, nil
	case err != nil:
		return nil, fmt.Errorf("ledger head of log %q: %w", tenant, err)
	}
	t := newTiles(l.store, tenant)
	if st.rng, err = t.rangeTo(ctx, head.Size); err != nil {
		return nil, err
	}
	st.size = head.Size
	for level := 0; head.Size>>level > 0; level++ {
		n := head.Size >> level
		if n%tileWidth == 0 {
			continue
		}
		first := compact.NewNodeID(uint(level), uint64(n-n%tileWidth))
		ids := []compact.NodeID{first, compact.NewNodeID(uint(level), uint64(n-1))}
		if _, err := t.nodes(ctx, ids); err != nil {
			return nil, err
		}
		tid, _ := tileOf(first)
		st.edges[level] = t.cache[tid][:(n%tileWidth)*hashSize]
	}
	return st, nil
}

// growth collects the tile writes of one log in one round.
type growth struct {
	st      *logState
	written map[trail.LedgerTileID][]byte
	order   []trail.LedgerTileID
	err     error
}

// visit records node id of the growing tree in its tile. The compact range
// reports the nodes of each level in index order, so a node either starts
// a tile or extends the level's edge tile by exactly one hash.
func (g *growth) visit(id compact.NodeID, hash []byte) {
	tid, slot := tileOf(id)
	level := int(id.Level)
	b, owned := g.written[tid]
	if !owned && slot > 0 {
		// The edge tile may be shared with the committed state: copy it
		// once, with room for the rest of the tile.
		b = append(make([]byte, 0, tileWidth*hashSize), g.st.edges[level]...)
	}
	if len(b) != slot*hashSize && g.err == nil {
		g.err = fmt.Errorf("ledger of log %q: tile (%d, %d) has %d hashes, node %d needs %d",
			g.st.tenant, tid.Level, tid.Index, len(b)/hashSize, id.Index, slot)
	}
	b = append(b, hash...)
	g.st.edges[level] = b
	if !owned {
		g.order = append(g.order, tid)
	}
	g.written[tid] = b
}

// extend returns a copy of st with events appended, and the tiles that
// changed. st itself stays as it was until the round commits.
func (st *logState) extend(events []trail.LedgerEntry) (*logState, []*trail.LedgerTile, error) {
	next := &logState{tenant: st.tenant, size: st.size, edges: map[int][]byte{}}
	next.rng, _ = factory.NewRange(0, uint64(st.size), append([][]byte(nil), st.rng.Hashes()...))
	for level, b := range st.edges {
		next.edges[level] = b
	}
	g := &growth{st: next, written: map[trail.LedgerTileID][]byte{}}
	for _, e := range events {
		if e.Seq < next.size {
			continue // integrated before; the stream may repeat after a failover
		}
		if e.Seq != next.size {
			return nil, nil, fmt.Errorf("ledger of log %q: stream gives seq %d where %d is next", st.tenant, e.Seq, next.size)
		}
		leaf, err := LeafHashJSON(e.Data)
		if err != nil {
			return nil, nil, fmt.Errorf("ledger of log %q: seq %d: %w", st.tenant, e.Seq, err)
		}
		if err := next.rng.Append(leaf, g.visit); err != nil {
			return nil, nil, err
		}
		next.size++
	}
	if g.err != nil {
		return nil, nil, g.err
	}
	for level, b := range next.edges {
		if len(b) == tileWidth*hashSize {
			delete(next.edges, level) // full: the level's next node starts a new tile
		}
	}
	tiles := make([]*trail.LedgerTile, 0, len(g.order))
	for _, tid := range g.order {
		tiles = append(tiles, &trail.LedgerTile{LedgerTileID: tid, Hashes: g.written[tid]})
	}
	return next, tiles, nil
}
