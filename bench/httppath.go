package bench

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/trailhq/trail"
	"github.com/trailhq/trail/httpapi"
)

// httpPath measures what the HTTP path alone carries: the same batches as
// httpBatches, posted to a second server whose store numbers events and
// drops them. Set against the raw ceiling, it tells whether the store or
// HTTP (reading, decoding, validating, answering, and the load generator
// on the same cores) bounds ingest.
func (r *runner) httpPath(ctx context.Context) error {
	reg := prometheus.NewRegistry()
	writer := trail.NewWriter(&discardStore{Store: r.cfg.Store}, 5000, nil)
	defer writer.Close()
	api := httpapi.New(httpapi.Config{Store: r.cfg.Store, Writer: writer, Registry: reg,
		Logger: slog.New(slog.DiscardHandler)})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: api.Handler()}
	go srv.Serve(ln)
	defer srv.Close()
	url := "http://" + ln.Addr().String()

	n := max(len(r.bodies), r.cfg.HTTPEvents/4/100)
	var next atomic.Int64
	var failed error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for range r.cfg.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				if err := r.post(ctx, url, r.gen.stamp(r.bodies[int(i)%len(r.bodies)], int(i)*100)); err != nil {
					once.Do(func() { failed = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	if failed != nil {
		return fmt.Errorf("HTTP path: %w", failed)
	}
	got := rate(n*100, time.Since(start))
	r.add("HTTP path alone (store drops events)", fmt.Sprintf("%.0f events/s", got), "",
		fmt.Sprintf("batches of 100, %d clients; %.1fx the raw ceiling", r.cfg.Clients, got/r.rawRate))
	return nil
}

// discardStore is a store whose appends only number events, as a store
// would, and keep nothing.
type discardStore struct {
	trail.Store
	mu  sync.Mutex
	pos int64
}

func (s *discardStore) AppendBatches(_ context.Context, batches []*trail.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range batches {
		for _, e := range b.Events {
			s.pos++
			e.Seq, e.Pos = s.pos, s.pos
		}
	}
	return nil
}
