package trail

import (
	"bytes"
	"fmt"
)

// SortState is one step of SortOperatorLog, the part both stores share:
// which rows of the system log it looked at, which of them move, and
// whether the sort is done.
type SortState struct {
	BeforePos int64 // events stored before the upgrade have smaller Pos
	NextSeq   int64 // the first system-log seq not looked at yet
	Sealed    int64 // the system log's sealed size
	// Finished is set by Scan when it looked at every sealed candidate;
	// Unsealed is then set by the store when an event stored before the
	// upgrade is not sealed yet.
	Finished, Unsealed bool
	// Moves are the chosen events, with Tenant and Seq where they are and
	// ToTenant where they go; ToSeq is given by the append.
	Moves  []*MovedEvent
	events []*Event
}

// RowScanner is the part of a database's rows that Scan reads.
type RowScanner interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// Scan reads up to limit rows of (pos, seq, data) of the system log in seq
// order and chooses the events to move: Trail's own records (OwnRecord)
// whose stored JSON is exactly what the codec writes, so that their copies
// differ from them in tenant and seq only. It does not close rows.
func (st *SortState) Scan(rows RowScanner, limit int) error {
	n := 0
	for rows.Next() {
		var pos, seq int64
		var data []byte
		if err := rows.Scan(&pos, &seq, &data); err != nil {
			return fmt.Errorf("read system log: %w", err)
		}
		n++
		st.NextSeq = seq + 1
		e, err := DecodeStored(pos, data)
		if err != nil || !OwnRecord(e) {
			continue
		}
		if again, err := MarshalEvent(e); err != nil || !bytes.Equal(again, data) {
			continue // moving it would change more than its tenant and seq
		}
		st.events = append(st.events, e)
		st.Moves = append(st.Moves, &MovedEvent{Tenant: SystemTenant, Seq: e.Seq, ToTenant: OperatorTenant})
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read system log: %w", err)
	}
	st.Finished = n < limit
	return nil
}

// Done reports whether nothing is left to move after this step.
func (st *SortState) Done() bool { return st.Finished && !st.Unsealed }

// Originals returns the events to delete from the system log.
func (st *SortState) Originals() []*Event { return st.events }

// Copies returns the batch to append to the operator log: the chosen
// events with the operator log as their tenant, to be numbered there.
func (st *SortState) Copies() *Batch {
	b := &Batch{Events: make([]*Event, len(st.events))}
	for i, e := range st.events {
		c := *e
		c.Tenant, c.Seq, c.Pos, c.Raw = OperatorTenant, 0, 0, nil
		b.Events[i] = &c
	}
	return b
}

// MovedLeaf returns the JSON that was sealed for a moved event, given the
// JSON of its copy at the destination: the copy with the tenant and seq it
// had before the move.
func MovedLeaf(m *MovedEvent, stored []byte) ([]byte, error) {
	e, err := DecodeStored(0, stored)
	if err != nil {
		return nil, err
	}
	e.Tenant, e.Seq = m.Tenant, m.Seq
	return MarshalEvent(e)
}
