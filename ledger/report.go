package ledger

import (
	"fmt"
	"strings"
)

// Problem kinds: what the verifier found wrong at a sequence number.
const (
	// KindModified: the stored event at seq N is not the event sealed
	// there (its leaf hash differs), and it was not moved from elsewhere.
	KindModified = "modified"
	// KindMissing: the event sealed at seq N is not stored any more,
	// either leaving a gap or with later events renumbered into its place.
	KindMissing = "missing"
	// KindInserted: seq N holds an event the ledger never sealed while the
	// sealed one is still stored elsewhere, or a second event shares seq N.
	KindInserted = "inserted"
	// KindReordered: seq N holds the event sealed at seq M, and the event
	// sealed at seq N is still stored, at another seq.
	KindReordered = "reordered"
	// KindLedger: the ledger's own records are wrong: a checkpoint that
	// does not verify, stored tree hashes that do not match the signed
	// root, pruned ranges that do not add up, or an older checkpoint that
	// the latest one does not extend.
	KindLedger = "ledger"
	// KindInexact: the stored event's JSON is not what Trail's ingest
	// accepts, in a way that lets its canonical form stand for several
	// values: a number that RFC 8785 cannot represent exactly (such as
	// 9007199254740993, whose leaf pins only the nearest double), invalid
	// UTF-8, an unpaired surrogate escape or a repeated name. So it was
	// changed after it was stored, or stored by a Trail that accepted it
	// (then see Verifier.AcceptInexact).
	KindInexact = "inexact"
)

// MaxProblems is how many problems a report describes; later bad
// sequence numbers are only counted.
const MaxProblems = 20

// Problem is one thing the verifier found wrong.
type Problem struct {
	// Seq is the sequence number, or -1 for a problem of the whole log.
	Seq    int64  `json:"seq"`
	Kind   string `json:"kind"`
	Detail string `json:"detail"`
}

// String formats p as `trail verify` prints it.
func (p Problem) String() string {
	if p.Seq < 0 {
		return p.Kind + ": " + p.Detail
	}
	return fmt.Sprintf("seq %d: %s: %s", p.Seq, p.Kind, p.Detail)
}

// PrunedReport is a range of a log that retention deleted, with the size
// of the checkpoint that covered it.
type PrunedReport struct {
	From           int64 `json:"from"`
	To             int64 `json:"to"`
	CheckpointSize int64 `json:"checkpoint_size"`
}

// Report is the outcome of verifying one log.
type Report struct {
	Tenant string `json:"tenant"`
	Origin string `json:"origin"`
	// Size is the tree size of the latest signed checkpoint.
	Size int64 `json:"size"`
	// Checked counts the stored events whose leaves verified.
	Checked int64 `json:"checked"`
	// Pending counts stored events past the checkpoint, not sealed yet.
	Pending int64 `json:"pending"`
	// Inexact counts the verified events that hold a number RFC 8785
	// cannot represent exactly, when Verifier.AcceptInexact lets them
	// pass: only their nearest doubles are protected.
	Inexact int64 `json:"inexact,omitempty"`
	// Moved counts the sealed events that were moved to another log and
	// verified there (see trail.MovedEvent); MovedUnread those whose
	// destination this reader may not read, which verifying that log
	// checks.
	Moved       int64          `json:"moved,omitempty"`
	MovedUnread int64          `json:"moved_unread,omitempty"`
	Pruned      []PrunedReport `json:"pruned,omitempty"`
	// Problems describes the first MaxProblems problems, in the order
	// found: by seq, with problems of the whole log where they showed.
	Problems []Problem `json:"problems,omitempty"`
	// BadSeqs counts every sequence number with a problem.
	BadSeqs int64 `json:"bad_seqs"`
}

// OK reports whether the log verified without problems.
func (r *Report) OK() bool { return len(r.Problems) == 0 && r.BadSeqs == 0 }

// add records p, describing it if fewer than MaxProblems are described.
func (r *Report) add(p Problem) {
	if p.Seq >= 0 {
		r.BadSeqs++
	}
	if len(r.Problems) < MaxProblems {
		r.Problems = append(r.Problems, p)
	}
}

// full reports whether no more problems will be described.
func (r *Report) full() bool { return len(r.Problems) >= MaxProblems }

// Summary is a one-line account of r.
func (r *Report) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: checkpoint size %d, %d events verified", r.Origin, r.Size, r.Checked)
	for _, p := range r.Pruned {
		fmt.Fprintf(&b, ", seqs %d-%d pruned (covered by checkpoint size %d)", p.From, p.To-1, p.CheckpointSize)
	}
	if r.Moved > 0 {
		fmt.Fprintf(&b, ", %d moved to the operator log and verified there", r.Moved)
	}
	if r.MovedUnread > 0 {
		fmt.Fprintf(&b, ", %d moved to the operator log (not readable with this key: verifying that log checks them)", r.MovedUnread)
	}
	if r.Inexact > 0 {
		fmt.Fprintf(&b, ", %d of them with JSON whose leaf does not pin every value, such as numbers beyond double precision (stored before Trail refused them)", r.Inexact)
	}
	if r.Pending > 0 {
		fmt.Fprintf(&b, ", %d newer events not sealed yet", r.Pending)
	}
	if !r.OK() {
		fmt.Fprintf(&b, ": %d bad seqs", r.BadSeqs)
	}
	return b.String()
}
