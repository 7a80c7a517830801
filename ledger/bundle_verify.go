package ledger

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/trailhq/trail"
	"github.com/transparency-dev/merkle/proof"
	"golang.org/x/mod/sumdb/note"
)

// BundleReport is the outcome of verifying an evidence bundle.
type BundleReport struct {
	// Events counts the events whose proofs verified.
	Events int `json:"events"`
	// Inexact counts the proven events with numbers protected only to
	// double precision (VerifyBundleAcceptInexact).
	Inexact int `json:"inexact,omitempty"`
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
//
// Every field of every line is checked; none is taken on trust. A line
// must hold exactly the fields of its kind (header, checkpoint or event),
// each once. The header's verifier_key must verify every checkpoint (it
// names the key the bundle was made with; trust comes from v only), and
// its created_at must be an RFC 3339 time, though nothing signs it. An
// event's proof.leaf_hash must be the leaf recomputed from the event, and
// proof.leaf_index its seq.
//
// An event holding a number that RFC 8785 cannot represent exactly is a
// problem of KindInexact (see Verifier.AcceptInexact), counted in
// BundleReport.Inexact instead with VerifyBundleAcceptInexact.
func VerifyBundle(r io.Reader, v note.Verifier) (*BundleReport, error) {
	return verifyBundle(r, v, false)
}

// VerifyBundleAcceptInexact is VerifyBundle for bundles of events stored
// before Trail refused inexact numbers: it counts them in
// BundleReport.Inexact instead of failing.
func VerifyBundleAcceptInexact(r io.Reader, v note.Verifier) (*BundleReport, error) {
	return verifyBundle(r, v, true)
}

func verifyBundle(r io.Reader, v note.Verifier, acceptInexact bool) (*BundleReport, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	bv := &bundleVerifier{key: v, rep: &BundleReport{}, cps: map[string]Checkpoint{}, last: map[string]Checkpoint{}, seen: map[string]int{},
		acceptInexact: acceptInexact}
	for n := 1; sc.Scan(); n++ {
		line, err := parseBundleLine(sc.Bytes(), n == 1)
		if n == 1 && (line == nil || line.Bundle != BundleFormat) {
			return nil, fmt.Errorf("not an evidence bundle: the first line does not name %s", BundleFormat)
		}
		if err != nil {
			bv.problem(-1, KindLedger, fmt.Sprintf("line %d: %v", n, err))
			continue
		}
		if n == 1 {
			bv.header(line)
			continue
		}
		bv.line(n, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read bundle: %w", err)
	}
	bv.checkHeaderKey()
	return bv.rep, nil
}

// The fields each kind of line holds, by their JSON paths; the ones
// without a '?' are required.
var (
	headerFields     = []string{"bundle", "verifier_key?", "created_at?"}
	checkpointFields = []string{"checkpoint", "consistency?", "consistency.from", "consistency.to", "consistency.hashes"}
	eventFields      = []string{"event", "proof", "proof.leaf_index", "proof.tree_size", "proof.leaf_hash", "proof.hashes"}
)

// parseBundleLine decodes one line, refusing repeated and unknown names and
// fields of another kind of line: every field is then one that VerifyBundle
// checks. header says whether it is the first line.
func parseBundleLine(raw []byte, header bool) (*bundleLine, error) {
	var line bundleLine
	if err := json.Unmarshal(raw, &line); err != nil {
		return nil, fmt.Errorf("not a JSON object: %v", err)
	}
	names, err := memberPaths(raw)
	if err != nil {
		return &line, err
	}
	kinds := [][]string{checkpointFields, eventFields}
	if header {
		kinds = [][]string{headerFields}
	}
	for _, fields := range kinds {
		if names[strings.TrimSuffix(fields[0], "?")] {
			return &line, checkFields(names, fields)
		}
	}
	return &line, errors.New("is neither a checkpoint nor an event with its proof")
}

// checkFields reports a path in names that fields lacks, or a required
// field that names lacks. Fields of an absent optional object are not
// required.
func checkFields(names map[string]bool, fields []string) error {
	allowed := map[string]bool{}
	for _, f := range fields {
		allowed[strings.TrimSuffix(f, "?")] = true
	}
	for name := range names {
		if !allowed[name] {
			return fmt.Errorf("unexpected field %q", name)
		}
	}
	for _, f := range fields {
		parent, _, nested := strings.Cut(f, ".")
		if !strings.HasSuffix(f, "?") && !names[f] && (!nested || names[parent]) {
			return fmt.Errorf("field %q is missing", f)
		}
	}
	return nil
}

// memberPaths returns the member names of the object raw and of the
// objects in it ("proof.leaf_hash"), not looking inside "event", and fails
// on a name repeated in one object: a reader that kept the first and one
// that kept the last would check different bundles.
func memberPaths(raw []byte) (map[string]bool, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	names := map[string]bool{}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name := tok.(string)
		if names[name] {
			return nil, fmt.Errorf("field %q appears twice", name)
		}
		names[name] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if name == "event" || len(v) == 0 || v[0] != '{' {
			continue
		}
		var inner map[string]json.RawMessage
		innerDec := json.NewDecoder(bytes.NewReader(v))
		if err := innerDec.Decode(&inner); err != nil {
			return nil, err
		}
		for k := range inner {
			names[name+"."+k] = true
		}
		if n, _ := countMembers(v); n != len(inner) {
			return nil, fmt.Errorf("a field of %q appears twice", name)
		}
	}
	return names, nil
}

// countMembers counts the members of the JSON object v.
func countMembers(v []byte) (int, error) {
	dec := json.NewDecoder(bytes.NewReader(v))
	if _, err := dec.Token(); err != nil {
		return 0, err
	}
	n := 0
	for dec.More() {
		if _, err := dec.Token(); err != nil {
			return n, err
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

type bundleVerifier struct {
	key note.Verifier
	// headerKey is the header's verifier_key, checked against every
	// checkpoint; headerKeyErr why it is not a key.
	headerKey     note.Verifier
	headerKeyErr  error
	msgs          [][]byte // the checkpoint notes, for checkHeaderKey
	acceptInexact bool
	rep           *BundleReport
	cps           map[string]Checkpoint // by log name and size
	last          map[string]Checkpoint // the latest checkpoint of each log name
	// seen is the line of each event proven so far, by log name and seq:
	// an export lists an event once, so a repeat was added by hand.
	seen map[string]int
}

func (bv *bundleVerifier) problem(seq int64, kind, detail string) {
	if len(bv.rep.Problems) < MaxProblems {
		bv.rep.Problems = append(bv.rep.Problems, Problem{Seq: seq, Kind: kind, Detail: detail})
	}
}

// header checks the header's fields, all but verifier_key: that one is
// checked against the checkpoints at the end.
func (bv *bundleVerifier) header(line *bundleLine) {
	if line.CreatedAt != "" {
		if _, err := time.Parse(time.RFC3339, line.CreatedAt); err != nil {
			bv.problem(-1, KindLedger, fmt.Sprintf("line 1: created_at %.40q is not an RFC 3339 time", line.CreatedAt))
		}
	}
	if line.VerifierKey != "" {
		bv.headerKey, bv.headerKeyErr = note.NewVerifier(line.VerifierKey)
	}
}

// checkHeaderKey checks that the header's verifier_key verifies every
// checkpoint of the bundle: it must name the key the bundle was made with.
func (bv *bundleVerifier) checkHeaderKey() {
	switch {
	case bv.headerKeyErr != nil:
		bv.problem(-1, KindLedger, fmt.Sprintf("line 1: verifier_key is not a note verifier key: %v", bv.headerKeyErr))
		return
	case bv.headerKey == nil:
		return
	}
	for _, msg := range bv.msgs {
		if _, err := note.Open(msg, note.VerifierList(bv.headerKey)); err != nil {
			bv.problem(-1, KindLedger, fmt.Sprintf("line 1: verifier_key %.80q does not verify the bundle's checkpoints: it was edited, or the bundle mixes keys", bv.headerKey.Name()))
			return
		}
	}
}

func (bv *bundleVerifier) line(n int, line *bundleLine) {
	if line.Checkpoint != "" {
		bv.checkpoint(n, line)
	} else {
		bv.event(n, line)
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
	bv.msgs = append(bv.msgs, []byte(line.Checkpoint))
	name := logName(cp.Origin)
	prev, ok := bv.last[name]
	if !ok && line.Consistency != nil {
		bv.problem(-1, KindLedger, fmt.Sprintf("line %d: a consistency proof on the log's first checkpoint, from nothing", n))
		return
	}
	if ok {
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
	key := fmt.Sprintf("%s %d", logName(LogOrigin("", e.Tenant)), e.Seq)
	if first, ok := bv.seen[key]; ok {
		bv.problem(e.Seq, KindModified, fmt.Sprintf("line %d: event %s is in the bundle twice (first on line %d)", n, e.ID, first))
		return
	}
	bv.seen[key] = n
	if problem := trail.StoredJSONProblem(line.Event); problem != "" {
		if !bv.acceptInexact {
			bv.problem(e.Seq, KindInexact, fmt.Sprintf("line %d: event %s %s: its leaf does not pin that value", n, e.ID, problem))
			return
		}
		bv.rep.Inexact++
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
	leaf := HashLeaf(data)
	if !bytes.Equal(p.LeafHash, leaf) {
		return fmt.Errorf("its proof's leaf_hash %x is not the leaf of the event (%x)", p.LeafHash, leaf)
	}
	err = proof.VerifyInclusion(hasher, uint64(seq), uint64(cp.Size), leaf, p.Hashes, cp.Root)
	var mismatch proof.RootMismatchError
	if errors.As(err, &mismatch) {
		return errors.New("it is not the event the checkpoint sealed at this seq: it was changed after it was sealed")
	}
	return err
}
