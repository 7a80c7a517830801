package ledger

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/transparency-dev/merkle/proof"
	"golang.org/x/mod/sumdb/note"
)

// BundleReport is the outcome of verifying an evidence bundle.
type BundleReport struct {
	// Events counts the events whose proofs verified.
	Events int `json:"events"`
	// Checkpoints lists the verified checkpoints' origins and sizes.
	Checkpoints []Checkpoint `json:"checkpoints"`
	// Problems lists what failed, by line: an event's Seq, or -1.
	Problems []Problem `json:"problems,omitempty"`
}

// OK reports whether every line of the bundle verified.
func (r *BundleReport) OK() bool { return len(r.Problems) == 0 }

// VerifyBundle checks an evidence bundle offline with the public key v
// alone: every checkpoint's signature, the consistency between successive
// checkpoints of a log, and every event's inclusion proof against the
// checkpoint of its log, recomputing each leaf from the event's JSON.
func VerifyBundle(r io.Reader, v note.Verifier) (*BundleReport, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	bv := &bundleVerifier{key: v, rep: &BundleReport{}, cps: map[string]Checkpoint{}, last: map[string]Checkpoint{}}
	for n := 1; sc.Scan(); n++ {
		var line bundleLine
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			bv.problem(-1, KindLedger, fmt.Sprintf("line %d is not JSON: %v", n, err))
			continue
		}
		if n == 1 {
			if line.Bundle != BundleFormat {
				return nil, fmt.Errorf("not an evidence bundle: the first line does not name %s", BundleFormat)
			}
			continue
		}
		bv.line(n, &line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read bundle: %w", err)
	}
	return bv.rep, nil
}

type bundleVerifier struct {
	key  note.Verifier
	rep  *BundleReport
	cps  map[string]Checkpoint // by log name and size
	last map[string]Checkpoint // the latest checkpoint of each log name
}

func (bv *bundleVerifier) problem(seq int64, kind, detail string) {
	if len(bv.rep.Problems) < MaxProblems {
		bv.rep.Problems = append(bv.rep.Problems, Problem{Seq: seq, Kind: kind, Detail: detail})
	}
}

func (bv *bundleVerifier) line(n int, line *bundleLine) {
	switch {
	case line.Checkpoint != "":
		bv.checkpoint(n, line)
	case line.Event != nil && line.Proof != nil:
		bv.event(n, line)
	default:
		bv.problem(-1, KindLedger, fmt.Sprintf("line %d is neither a checkpoint nor an event with its proof", n))
	}
}

// logName is the last element of an origin: the tenant, or SystemLog.
func logName(origin string) string {
	return origin[strings.LastIndexByte(origin, '/')+1:]
}

func (bv *bundleVerifier) checkpoint(n int, line *bundleLine) {
	cp, err := OpenCheckpoint([]byte(line.Checkpoint), bv.key)
	if err != nil {
		bv.problem(-1, KindLedger, fmt.Sprintf("line %d: %v", n, err))
		return
	}
	name := logName(cp.Origin)
	if prev, ok := bv.last[name]; ok {
		c := line.Consistency
		if c == nil || c.From != prev.Size || c.To != cp.Size {
			bv.problem(-1, KindLedger, fmt.Sprintf("line %d: no consistency proof from the log's previous checkpoint (size %d)", n, prev.Size))
			return
		}
		if err := proof.VerifyConsistency(hasher, uint64(c.From), uint64(c.To), c.Hashes, prev.Root, cp.Root); err != nil {
			bv.problem(-1, KindLedger, fmt.Sprintf("line %d: checkpoint of size %d does not extend size %d: %v", n, c.To, c.From, err))
			return
		}
	}
	bv.last[name] = cp
	bv.cps[fmt.Sprintf("%s %d", name, cp.Size)] = cp
	bv.rep.Checkpoints = append(bv.rep.Checkpoints, cp)
}

func (bv *bundleVerifier) event(n int, line *bundleLine) {
	var e struct {
		ID     string `json:"id"`
		Tenant string `json:"tenant"`
		Seq    int64  `json:"seq"`
	}
	if err := json.Unmarshal(line.Event, &e); err != nil {
		bv.problem(-1, KindModified, fmt.Sprintf("line %d: the event is not a JSON object: %v", n, err))
		return
	}
	err := bv.prove(line, e.Tenant, e.Seq)
	if err != nil {
		bv.problem(e.Seq, KindModified, fmt.Sprintf("line %d: event %s: %v", n, e.ID, err))
		return
	}
	bv.rep.Events++
}

// prove checks the event of line, of tenant's log at seq, against its proof.
func (bv *bundleVerifier) prove(line *bundleLine, tenant string, seq int64) error {
	p := line.Proof
	name := logName(LogOrigin("", tenant))
	cp, ok := bv.cps[fmt.Sprintf("%s %d", name, p.TreeSize)]
	switch {
	case !ok:
		return fmt.Errorf("the bundle has no verified checkpoint of size %d for log %q", p.TreeSize, name)
	case p.LeafIndex != seq:
		return fmt.Errorf("its proof is for leaf %d, not its seq", p.LeafIndex)
	}
	data, err := Canonicalize(line.Event)
	if err != nil {
		return err
	}
	err = proof.VerifyInclusion(hasher, uint64(seq), uint64(cp.Size), HashLeaf(data), p.Hashes, cp.Root)
	var mismatch proof.RootMismatchError
	if errors.As(err, &mismatch) {
		return errors.New("it is not the event the checkpoint sealed at this seq: it was changed after it was sealed")
	}
	return err
}
