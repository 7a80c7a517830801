package teststore

import (
	"context"
	"testing"

	"github.com/trailhq/trail"
)

// AppendedAgain appends each call of calls to s and returns copies of
// their events under new ids, to append again: a benchmark of appends
// whose actors and target types the store knows.
func AppendedAgain(tb testing.TB, s trail.EventStore, calls [][]*trail.Batch) [][]*trail.Batch {
	tb.Helper()
	again := make([][]*trail.Batch, len(calls))
	for i, batches := range calls {
		if err := s.AppendBatches(context.Background(), batches); err != nil {
			tb.Fatal(err)
		}
		for _, bt := range batches {
			cp := &trail.Batch{}
			for _, e := range bt.Events {
				c := *e
				c.ID, c.Seq, c.Pos, c.Raw = trail.NewID(e.ReceivedAt), 0, 0, nil
				cp.Events = append(cp.Events, &c)
			}
			again[i] = append(again[i], cp)
		}
	}
	return again
}
