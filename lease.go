package trail

import (
	"context"
	"log/slog"
	"time"
)

// LeaseConfig names a lease and who asks for it.
type LeaseConfig struct {
	Name   string        // what the lease guards, e.g. "ledger" or "forwarder:siem"
	Holder string        // this node's unique id
	TTL    time.Duration // how long a lease lasts without renewal
	Logger *slog.Logger  // nil discards
}

// RunWithLease runs work only while this node holds lease cfg.Name, until
// ctx ends. It renews the lease every TTL/3; when renewal fails, work's
// context is canceled and work must return promptly, so that another node
// can take over once the lease expires. When work returns, the lease is
// released and taken again after a pause, so a failing loop restarts.
func RunWithLease(ctx context.Context, l Leaser, cfg LeaseConfig, work func(ctx context.Context) error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tick := time.NewTicker(cfg.TTL / 3)
	defer tick.Stop()
	for {
		ok, err := l.AcquireLease(ctx, cfg.Name, cfg.Holder, cfg.TTL)
		if err != nil && ctx.Err() == nil {
			log.Warn("acquire lease", "lease", cfg.Name, "err", err)
		}
		if ok {
			log.Info("lease acquired", "lease", cfg.Name, "holder", cfg.Holder)
			holdLease(ctx, l, cfg, tick.C, work, log)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// holdLease runs work and renews the lease until work returns, renewal
// fails or ctx ends.
func holdLease(ctx context.Context, l Leaser, cfg LeaseConfig, tick <-chan time.Time, work func(context.Context) error, log *slog.Logger) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- work(wctx) }()
	for {
		select {
		case err := <-done:
			if err != nil && ctx.Err() == nil {
				log.Error("leased work failed", "lease", cfg.Name, "err", err)
			}
			release(l, cfg, log)
			return
		case <-tick:
			ok, err := l.AcquireLease(wctx, cfg.Name, cfg.Holder, cfg.TTL)
			if ok && err == nil {
				continue
			}
			log.Warn("lease lost", "lease", cfg.Name, "err", err)
			cancel()
			<-done
			return
		}
	}
}

func release(l Leaser, cfg LeaseConfig, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := l.ReleaseLease(ctx, cfg.Name, cfg.Holder); err != nil {
		log.Warn("release lease", "lease", cfg.Name, "err", err)
	}
}
