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
	subs map[string]map[chan struct{}]string // by tenant and session ID, to the user's ID
}

func newSessionStreams() *sessionStreams {
	return &sessionStreams{subs: make(map[string]map[chan struct{}]string)}
}

func streamKey(tenant, id string) string { return tenant + "\x00" + id }

// subscribe returns a channel that is closed when the session tenant/id of
// user is revoked, or the user changes, and a function that unsubscribes.
func (r *sessionStreams) subscribe(tenant, id, user string) (<-chan struct{}, func()) {
	key, ch := streamKey(tenant, id), make(chan struct{})
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.subs[key] == nil {
		r.subs[key] = make(map[chan struct{}]string)
	}
	r.subs[key][ch] = user
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

// endUser closes the channels of every stream of tenant's user, whose
// role changed or who was deactivated or deleted: each tail then checks
// the session again, or ends. Live tails are few, so it looks at each.
func (r *sessionStreams) endUser(tenant, user string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for key, subs := range r.subs {
		for ch, u := range subs {
			if u == user && key[:len(tenant)+1] == tenant+"\x00" {
				close(ch)
				delete(subs, ch)
			}
		}
		if len(subs) == 0 {
			delete(r.subs, key)
		}
	}
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

// UpdateUser ends the open streams of the changed user, so that a
// deactivation or a lost role applies to its live tails at once.
func (u revokingUsers) UpdateUser(ctx context.Context, tenant, id string, change func(*trail.User) error) (before, after *trail.User, err error) {
	before, after, err = u.UserStore.UpdateUser(ctx, tenant, id, change)
	if err == nil {
		u.streams.endUser(tenant, id)
	}
	return before, after, err
}

// DeleteUser ends the open streams of the deleted user.
func (u revokingUsers) DeleteUser(ctx context.Context, tenant, id string, check func(*trail.User) error) (*trail.User, error) {
	deleted, err := u.UserStore.DeleteUser(ctx, tenant, id, check)
	if err == nil {
		u.streams.endUser(tenant, id)
	}
	return deleted, err
}
