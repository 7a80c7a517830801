package postgres_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/pgtest"
	"github.com/trailhq/trail/internal/teststore"
)

// BenchmarkAppendBatches measures the store's raw append, as sqlite's
// benchmark of the same name does: one AppendBatches call (one
// transaction) per op, shapes batches x events per batch, on a durable
// server. The preload's generator spreads 5,000 actors and 20,000
// projects over 10 tenants, so after the first calls every actor and
// target type is known: the directory's steady state. "-known" appends
// the events of a first, untimed pass again under new ids. Beside events/s it
// reports the time of a commit per event (its serial work) and the CPU
// time per event of the server and of this process together.
//
//	go test -run '^$' -bench AppendBatches -benchtime 50x ./postgres/
func BenchmarkAppendBatches(b *testing.B) {
	srv, err := pgtest.NewServer(pgtest.Options{Durable: true})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	for _, shape := range []struct {
		name            string
		batches, events int
		known           bool
	}{{"1x1000", 1, 1000, false}, {"10x100", 10, 100, false}, {"5x1000", 5, 1000, false}, {"5x1000-known", 5, 1000, true}} {
		b.Run(shape.name, func(b *testing.B) {
			db := MustOpen(b, srv.NewDB(b))
			g := gen{step: time.Second, first: time.Now().Add(-time.Duration(b.N*shape.batches*shape.events) * time.Second)}
			calls := make([][]*trail.Batch, b.N)
			i := 0
			for c := range calls {
				for range shape.batches {
					bt := &trail.Batch{}
					for range shape.events {
						bt.Events = append(bt.Events, genEvent(&g, i))
						i++
					}
					calls[c] = append(calls[c], bt)
				}
			}
			if shape.known {
				calls = teststore.AppendedAgain(b, db, calls)
			}
			pm := postmaster(b, db)
			cpu0 := processCPU(pm, true) + processCPU(os.Getpid(), false)
			var commits time.Duration
			b.ResetTimer()
			for _, batches := range calls {
				start := time.Now()
				if err := db.AppendBatches(context.Background(), batches); err != nil {
					b.Fatal(err)
				}
				commits += time.Since(start)
			}
			n := float64(i)
			cpu := processCPU(pm, true) + processCPU(os.Getpid(), false) - cpu0
			b.ReportMetric(n/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(commits.Microseconds())/n, "commit-µs/event")
			b.ReportMetric(float64(cpu.Microseconds())/n, "cpu-µs/event")
		})
	}
}
