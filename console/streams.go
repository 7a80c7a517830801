package console

import (
	"context"
	"sync"
	"time"

	"github.com/trailhq/trail"
)

// sessionStreams lets a revocation end the open live tails of its session
// at once: each tail subscribes under its session, and revoking the
// session (sign-out, or an admin's revoke) closes their channels. A
// revocation on another node (or by the CLI) is seen by the tails' own
// re-check of the session on every poll.
type sessionStreams struct {
	mu   sync.Mutex
	subs map[string]map[chan struct{}]struct{} // by tenant and session ID
}

func newSessionStreams() *sessionStreams {
	return &sessionStreams{subs: make(map[string]map[chan struct{}]struct{})}
}

func streamKey(tenant, id string) string { return tenant + "\x00" + id }

// subscribe returns a channel that is closed when the session tenant/id is
// revoked, and a function that unsubscribes.
func (r *sessionStreams) subscribe(tenant, id string) (<-chan struct{}, func()) {
	key, ch := streamKey(tenant, id), make(chan struct{})
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.subs[key] == nil {
		r.subs[key] = make(map[chan struct{}]struct{})
	}
	r.subs[key][ch] = struct{}{}
	return ch, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if _, ok := r.subs[key][ch]; ok {
			delete(r.subs[key], ch)
			if len(r.subs[key]) == 0 {
				delete(r.subs, key)
			}
		}
	}
}

// end closes the channels of every stream of the session tenant/id.
func (r *sessionStreams) end(tenant, id string) {
	key := streamKey(tenant, id)
	r.mu.Lock()
	defer r.mu.Unlock()
	for ch := range r.subs[key] {
		close(ch)
	}
	delete(r.subs, key)
}

// revokingUsers is the console's UserStore: every revocation through it
// also ends the session's open streams, whichever handler revoked it.
type revokingUsers struct {
	trail.UserStore
	streams *sessionStreams
}

func (u revokingUsers) RevokeSession(ctx context.Context, tenant, id string, t time.Time) error {
	err := u.UserStore.RevokeSession(ctx, tenant, id, t)
	if err == nil || trail.ErrorCode(err) == trail.ENOTFOUND {
		u.streams.end(tenant, id)
	}
	return err
}
