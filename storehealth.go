package trail

import (
	"context"
	"log/slog"
	"sync"
)

// StoreHealth tracks whether the store takes writes, from the outcome of
// the writer's commits and of write checks, so that /readyz, the metrics
// and the log can say what is wrong with the storage (a full disk, a
// read-only file system, a lost database) while reads go on being served.
// The zero value is healthy; it is safe for concurrent use.
type StoreHealth struct {
	mu     sync.Mutex
	log    *slog.Logger      // see SetLogger
	err    *Error            // the last storage fault; nil while healthy
	counts map[string]uint64 // storage faults seen, by code
}

// IsStorageFault reports whether err says the store cannot take writes
// (ESTORAGEFULL, ESTORAGEREADONLY, EUNAVAILABLE) rather than that a
// request was wrong.
func IsStorageFault(err error) bool {
	switch ErrorCode(err) {
	case ESTORAGEFULL, ESTORAGEREADONLY, EUNAVAILABLE:
		return true
	}
	return false
}

// Observe records the outcome of a write: nil marks the store healthy, a
// storage fault marks it unhealthy, and any other error (a bad request, a
// conflict) says nothing about the storage and is ignored. Pass every
// commit's error (trail.CommitStats.Err) to it.
func (h *StoreHealth) Observe(err error) {
	if err != nil && !IsStorageFault(err) {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err == nil {
		if h.err != nil {
			h.logger().Info("store recovered: writes succeed again", "was", h.err.Code)
		}
		h.err = nil
		return
	}
	if h.counts == nil {
		h.counts = map[string]uint64{}
	}
	code := ErrorCode(err)
	h.counts[code]++
	if h.err == nil || h.err.Code != code {
		h.logger().Error("store cannot take writes: ingest answers 503 until it recovers",
			"code", code, "err", err)
	}
	h.err = &Error{Code: code, Message: ErrorMessage(err)}
}

// Err returns the last storage fault while the store is unhealthy, and nil
// while it is healthy.
func (h *StoreHealth) Err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err == nil {
		return nil
	}
	return h.err
}

// Faults returns how many storage faults were observed, by error code.
func (h *StoreHealth) Faults() map[string]uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := make(map[string]uint64, len(h.counts))
	for k, v := range h.counts {
		m[k] = v
	}
	return m
}

// Check returns nil if the store is healthy. While it is not, it asks s
// whether it can take writes again (CheckWritable), records the answer and
// returns it, so that a node taken out of service by its readiness probe
// notices by itself when space returns.
func (h *StoreHealth) Check(ctx context.Context, s Store) error {
	if h.Err() == nil {
		return nil
	}
	err := s.CheckWritable(ctx)
	if err != nil && !IsStorageFault(err) {
		// The check itself failed for another reason: stay unhealthy.
		return h.Err()
	}
	h.Observe(err)
	return err
}

// SetLogger makes l receive an ERROR line when the store turns unhealthy
// and an INFO line when it recovers; until it is called nothing is logged.
func (h *StoreHealth) SetLogger(l *slog.Logger) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.log = l
}

func (h *StoreHealth) logger() *slog.Logger {
	if h.log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.log
}
