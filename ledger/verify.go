package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/trailhq/trail"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"golang.org/x/mod/sumdb/note"
)

// Source is what the verifier reads: a store, or a Trail server through
// its API. Nothing it returns is trusted: every hash is checked against
// checkpoints signed by the key given to the Verifier.
type Source interface {
	LedgerHead(ctx context.Context, tenant string) (*trail.LedgerHead, error)
	LedgerHeads(ctx context.Context) ([]*trail.LedgerHead, error)
	LedgerTiles(ctx context.Context, tenant string, ids []trail.LedgerTileID) ([]*trail.LedgerTile, error)
	LedgerRows(ctx context.Context, tenant string, from int64, limit int) ([]trail.LedgerRow, error)
	PrunedRanges(ctx context.Context, tenant string) ([]*trail.PrunedRange, error)
	MovedEvents(ctx context.Context, tenant string) ([]*trail.MovedEvent, error)
}

// Verifier recomputes every leaf of a log from its stored events and checks
// them against the latest signed checkpoint.
type Verifier struct {
	Source Source
	// Key verifies checkpoint signatures.
	Key note.Verifier
	// Origin, when set, is the deployment origin checkpoints must carry;
	// otherwise any origin whose last element names the log is accepted.
	Origin string
	// Since holds checkpoints kept from earlier (signed notes, any logs):
	// the latest checkpoint of their log must extend each of them.
	Since [][]byte
	// AcceptInexact counts stored events whose JSON Trail's ingest now
	// refuses (trail.StoredJSONProblem: numbers beyond double precision,
	// invalid UTF-8, ...) in Report.Inexact instead of reporting each as
	// a problem (KindInexact): for logs with events stored before Trail
	// refused them.
	AcceptInexact bool
}

// VerifyAll verifies every log that has a checkpoint. The error is for
// failures to read; what is wrong with the logs is in the reports.
func (v *Verifier) VerifyAll(ctx context.Context) ([]*Report, error) {
	heads, err := v.Source.LedgerHeads(ctx)
	if err != nil {
		return nil, fmt.Errorf("list logs: %w", err)
	}
	tenants := make([]string, 0, len(heads))
	for _, h := range heads {
		tenants = append(tenants, h.Tenant)
	}
	// A log's own key (named after its origin, trail ledger pubkey --log)
	// verifies that log only: the others are not checked, rather than
	// reported as signed by an unknown key.
	logKey := false
	for _, h := range heads {
		if origin, _, _ := strings.Cut(string(h.Checkpoint), "\n"); v.Key != nil && origin == v.Key.Name() {
			tenants, logKey = []string{h.Tenant}, true
			break
		}
	}
	// A log that a kept checkpoint names is verified even when the source
	// lists no checkpoint for it: that is a rollback to show, not skip.
	// Not with a log's own key: a kept checkpoint of another log (signed
	// by the same key under that log's name) does not widen the run.
	for _, msg := range v.Since {
		if logKey {
			break
		}
		if cp, err := OpenCheckpoint(msg, v.Key); err == nil {
			if t := originTenant(cp.Origin); !slices.Contains(tenants, t) && checkOrigin(cp, v.Origin, t) == nil {
				tenants = append(tenants, t)
			}
		}
	}
	var reports []*Report
	for _, tenant := range tenants {
		r, err := v.VerifyLog(ctx, tenant)
		if err != nil {
			return reports, err
		}
		reports = append(reports, r)
	}
	return reports, nil
}

// VerifyLog verifies tenant's log.
//
// A failure to read the source (a *ReadError: a store or server that
// cannot be read) is returned as an error: it is no evidence either way.
// Whatever else stops the check (a tree node the ledger lacks, say) is
// the ledger's records being wrong, reported as a problem of KindLedger.
func (v *Verifier) VerifyLog(ctx context.Context, tenant string) (*Report, error) {
	src := readSource{v.Source}
	c := &check{v: v, src: src, tenant: tenant, t: newTiles(src, tenant),
		r: &Report{Tenant: tenant, Origin: LogOrigin(v.Origin, tenant)}}
	err := c.run(ctx)
	if re := (*ReadError)(nil); err != nil && !errors.As(err, &re) {
		c.r.add(Problem{Seq: -1, Kind: KindLedger, Detail: err.Error()})
		err = nil
	}
	return c.r, err
}

func (c *check) run(ctx context.Context) error {
	if ok, err := c.openHead(ctx); err != nil || !ok {
		return err
	}
	for _, step := range []func(context.Context) error{c.checkSince, c.openPruned, c.openMoves, c.scan} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// check is the state of verifying one log.
type check struct {
	v       *Verifier
	src     Source // v.Source, its errors made *ReadError
	tenant  string
	r       *Report
	t       *tiles
	cp      Checkpoint
	prefix  int64 // seqs below it were pruned
	moves   map[int64]*trail.MovedEvent
	rng     *compact.Range // the tree of the stored leaf hashes so far
	nodes   []compact.NodeID
	hashes  [][]byte
	badTree bool
}

// openHead verifies the latest checkpoint; false means there is nothing
// more to check.
func (c *check) openHead(ctx context.Context) (bool, error) {
	head, err := c.src.LedgerHead(ctx, c.tenant)
	switch {
	case trail.ErrorCode(err) == trail.ENOTFOUND:
		// Nothing sealed yet: every stored row is pending.
		c.cp = Checkpoint{Origin: c.r.Origin, Root: hasher.EmptyRoot()}
		return true, nil
	case err != nil:
		return false, fmt.Errorf("log %q: %w", c.tenant, err)
	}
	cp, err := c.open(head.Checkpoint, "the latest checkpoint")
	if err != nil {
		return false, nil
	}
	c.cp, c.r.Origin, c.r.Size = cp, cp.Origin, cp.Size
	return true, nil
}

// open verifies a signed checkpoint of this log, recording a problem when
// it does not verify.
func (c *check) open(msg []byte, what string) (Checkpoint, error) {
	cp, err := OpenCheckpoint(msg, c.v.Key)
	if err == nil {
		err = checkOrigin(cp, c.v.Origin, c.tenant)
	}
	if err != nil {
		c.r.add(Problem{Seq: -1, Kind: KindLedger, Detail: fmt.Sprintf("%s does not verify: %v", what, err)})
	}
	return cp, err
}

// consistent checks that the latest checkpoint extends older.
func (c *check) consistent(ctx context.Context, older Checkpoint, what string) error {
	if older.Size == 0 {
		return nil // every tree extends the empty one
	}
	if older.Size > c.cp.Size {
		c.r.add(Problem{Seq: -1, Kind: KindLedger, Detail: fmt.Sprintf(
			"%s has size %d but the latest checkpoint only %d: the log was rolled back", what, older.Size, c.cp.Size)})
		return nil
	}
	hashes, err := c.t.consistency(ctx, older.Size, c.cp.Size)
	if re := (*ReadError)(nil); errors.As(err, &re) {
		return fmt.Errorf("log %q: %w", c.tenant, err) // no evidence either way
	}
	if err == nil {
		err = proof.VerifyConsistency(hasher, uint64(older.Size), uint64(c.cp.Size), hashes, older.Root, c.cp.Root)
	}
	if err != nil {
		c.r.add(Problem{Seq: -1, Kind: KindLedger, Detail: fmt.Sprintf(
			"%s (size %d) is not consistent with the latest checkpoint (size %d): history was rewritten (%v)",
			what, older.Size, c.cp.Size, err)})
	}
	return nil
}

// checkSince checks the checkpoints kept from earlier that belong to this
// log.
func (c *check) checkSince(ctx context.Context) error {
	for _, msg := range c.v.Since {
		old, err := OpenCheckpoint(msg, c.v.Key)
		if err != nil || checkOrigin(old, c.v.Origin, c.tenant) != nil {
			continue
		}
		if old.Origin != c.cp.Origin {
			if c.r.Size > 0 || old.Size == 0 {
				continue // another deployment's log of that name
			}
			c.r.Origin = old.Origin // no checkpoint: the log was rolled back to nothing
		}
		if err := c.consistent(ctx, old, "the earlier checkpoint"); err != nil {
			return err
		}
	}
	return nil
}

// openPruned checks the pruned ranges: they must chain from 0, and each
// checkpoint that covered one must verify and be extended by the latest.
func (c *check) openPruned(ctx context.Context) error {
	ranges, err := c.src.PrunedRanges(ctx, c.tenant)
	if err != nil {
		return fmt.Errorf("log %q: pruned ranges: %w", c.tenant, err)
	}
	for _, pr := range ranges {
		what := fmt.Sprintf("the checkpoint that covered pruned seqs %d-%d", pr.From, pr.To-1)
		if pr.From != c.prefix || pr.To <= pr.From {
			c.r.add(Problem{Seq: -1, Kind: KindLedger, Detail: fmt.Sprintf(
				"pruned range %d-%d does not follow the pruned prefix 0-%d", pr.From, pr.To-1, c.prefix-1)})
			return nil
		}
		cp, err := c.open(pr.Checkpoint, what)
		if err != nil {
			return nil
		}
		if cp.Size < pr.To {
			c.r.add(Problem{Seq: -1, Kind: KindLedger, Detail: fmt.Sprintf("%s has size %d only", what, cp.Size)})
			return nil
		}
		if err := c.consistent(ctx, cp, what); err != nil {
			return err
		}
		c.r.Pruned = append(c.r.Pruned, PrunedReport{From: pr.From, To: pr.To, CheckpointSize: cp.Size})
		c.prefix = pr.To
	}
	return nil
}

// scan reads every stored row of the log in seq order and checks it
// against the stored leaf at its seq, while rebuilding the tree from the
// stored leaves, whose root must be the signed one.
func (c *check) scan(ctx context.Context) error {
	var err error
	c.rng, err = c.t.rangeTo(ctx, min(c.prefix, c.cp.Size))
	if re := (*ReadError)(nil); errors.As(err, &re) {
		return fmt.Errorf("log %q: %w", c.tenant, err)
	}
	if err != nil {
		c.r.add(Problem{Seq: -1, Kind: KindLedger, Detail: "the tree nodes over the pruned prefix are missing: " + err.Error()})
		return nil
	}
	rows := &rowReader{src: c.src, tenant: c.tenant}
	next := c.prefix // the first seq not yet accounted for
	for {
		row, err := rows.next(ctx)
		if err != nil || row == nil {
			if err == nil {
				err = c.gap(ctx, next, c.cp.Size)
			}
			if err == nil {
				c.finish()
			}
			return err
		}
		if next, err = c.row(ctx, row, next); err != nil {
			return err
		}
	}
}

// row checks one stored row and returns the next seq to account for.
func (c *check) row(ctx context.Context, row *trail.LedgerRow, next int64) (int64, error) {
	switch {
	case row.Seq < c.prefix:
		return next, c.heldRow(ctx, row)
	case row.Seq < next:
		c.r.add(Problem{Seq: row.Seq, Kind: KindInserted, Detail: fmt.Sprintf(
			"a second event (%s) is stored at seq %d", row.Event.ID, row.Seq)})
		return next, nil
	case row.Seq >= c.cp.Size:
		c.r.Pending++
		return max(next, c.cp.Size), c.gap(ctx, next, c.cp.Size)
	}
	if err := c.gap(ctx, next, row.Seq); err != nil {
		return next, err
	}
	return row.Seq + 1, c.leaf(ctx, row)
}

// gap accounts for seqs [from, to) of the checkpointed tree that have no
// stored row.
func (c *check) gap(ctx context.Context, from, to int64) error {
	for seq := from; seq < to; seq++ {
		sealed, err := c.stored(ctx, seq)
		if err != nil {
			return err
		}
		if m := c.moves[seq]; m != nil {
			if err := c.moved(ctx, m, sealed); err != nil {
				return err
			}
			continue
		}
		c.r.add(Problem{Seq: seq, Kind: KindMissing, Detail: "no event is stored at this seq: the sealed event was deleted"})
	}
	return nil
}

// leaf checks the row stored at seq row.Seq against the sealed leaf.
func (c *check) leaf(ctx context.Context, row *trail.LedgerRow) error {
	sealed, err := c.stored(ctx, row.Seq)
	if err != nil {
		return err
	}
	var h []byte
	data, err := rowData(row)
	if err == nil {
		h, err = LeafHashJSON(data)
	}
	if err != nil {
		c.r.add(Problem{Seq: row.Seq, Kind: KindModified, Detail: fmt.Sprintf(
			"the stored JSON of event %s is not valid JSON: %v", row.Event.ID, err)})
		return nil
	}
	if bytes.Equal(h, sealed) && row.Conflict == "" {
		return c.exact(row, data)
	}
	if bytes.Equal(h, sealed) {
		c.r.add(Problem{Seq: row.Seq, Kind: KindModified, Detail: fmt.Sprintf(
			"event %s was edited in its row: %s", row.Event.ID, row.Conflict)})
		return nil
	}
	if c.r.full() {
		c.r.BadSeqs++
		return nil
	}
	p, err := c.classify(ctx, row, h, sealed)
	c.r.add(p)
	return err
}

// exact counts a row whose leaf verified, unless its JSON is not what
// Trail stores: then the leaf does not pin its value (see KindInexact).
func (c *check) exact(row *trail.LedgerRow, data []byte) error {
	problem := trail.StoredJSONProblem(data)
	switch {
	case problem == "":
		c.r.Checked++
	case c.v.AcceptInexact:
		c.r.Checked++
		c.r.Inexact++
	default:
		c.r.add(Problem{Seq: row.Seq, Kind: KindInexact, Detail: fmt.Sprintf(
			"event %s %s: its leaf does not pin that value, so it may have been changed to another "+
				"with the same leaf; Trail refuses such JSON at ingest "+
				"(for events stored before it did: trail verify --accept-inexact)", row.Event.ID, problem)})
	}
	return nil
}

// heldRow checks an event that is still stored inside the pruned prefix
// (a legal hold kept it) by its inclusion proof.
func (c *check) heldRow(ctx context.Context, row *trail.LedgerRow) error {
	h, err := rowLeaf(row)
	if err != nil {
		return err
	}
	hashes, err := c.t.inclusion(ctx, row.Seq, c.cp.Size)
	if re := (*ReadError)(nil); errors.As(err, &re) {
		return fmt.Errorf("log %q: %w", c.tenant, err)
	}
	if err == nil {
		err = proof.VerifyInclusion(hasher, uint64(row.Seq), uint64(c.cp.Size), h, hashes, c.cp.Root)
	}
	if err != nil {
		c.r.add(Problem{Seq: row.Seq, Kind: KindModified, Detail: fmt.Sprintf(
			"event %s, kept inside the pruned range, is not the event sealed there", row.Event.ID)})
		return nil
	}
	c.r.Checked++
	return nil
}

// stored returns the sealed leaf hash of seq and adds it to the tree.
func (c *check) stored(ctx context.Context, seq int64) ([]byte, error) {
	if seq%4096 == 0 {
		c.t.evictBelow(seq)
	}
	h, err := c.t.leaf(ctx, seq)
	if err != nil {
		return nil, fmt.Errorf("log %q: the ledger's leaf hashes are incomplete: %w", c.tenant, err)
	}
	c.nodes, c.hashes = c.nodes[:0], c.hashes[:0]
	if err := c.rng.Append(h, c.visit); err != nil {
		return nil, err
	}
	return h, c.checkNodes(ctx)
}

// visit collects the inner nodes that the stored leaves produce.
func (c *check) visit(id compact.NodeID, hash []byte) {
	if id.Level > 0 {
		c.nodes, c.hashes = append(c.nodes, id), append(c.hashes, hash)
	}
}

// checkNodes compares the inner nodes recomputed from the stored leaves
// with the stored ones: a leaf hash edited without its parents shows here,
// near the edit.
func (c *check) checkNodes(ctx context.Context) error {
	if len(c.nodes) == 0 || c.badTree {
		return nil
	}
	stored, err := c.t.nodes(ctx, c.nodes)
	if err != nil {
		return fmt.Errorf("log %q: the ledger's tree is incomplete: %w", c.tenant, err)
	}
	for i, id := range c.nodes {
		if !bytes.Equal(stored[i], c.hashes[i]) {
			begin, end := id.Coverage()
			c.badTree = true
			c.r.add(Problem{Seq: -1, Kind: KindLedger, Detail: fmt.Sprintf(
				"the ledger's stored hashes for seqs %d-%d do not match each other: its tables were edited there", begin, end-1)})
			return nil
		}
	}
	return nil
}

// finish compares the root of the stored leaves with the signed root.
func (c *check) finish() {
	if c.rng.End() != uint64(c.cp.Size) {
		return // a read failed earlier and was reported
	}
	if !bytes.Equal(rootOf(c.rng), c.cp.Root) {
		c.r.add(Problem{Seq: -1, Kind: KindLedger, Detail: "the ledger's stored leaf hashes do not reproduce the signed root: " +
			"its tables were rewritten, so the comparison of events with them proves nothing; " +
			"check the log against a checkpoint or evidence bundle kept outside this database"})
	}
}
