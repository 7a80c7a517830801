package httpapi

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/trailhq/trail"
)

// ActionAuthFailed is recorded for requests whose API key was refused: an
// unknown key, a wrong secret, a revoked or expired key, or a key used
// outside its scopes. One event stands for every failure of one key id
// and client address in one window; its metadata counts them.
const ActionAuthFailed = "api_key.authentication_failed"

// Reasons an API key is refused, as counted in ActionAuthFailed's metadata.
const (
	reasonUnknownKey   = "unknown_key"   // no key has the id, or the secret has no key id
	reasonWrongSecret  = "wrong_secret"  // the key exists, the secret is not its secret
	reasonRevoked      = "revoked"       // the right secret of a revoked key
	reasonExpired      = "expired"       // the right secret of an expired key
	reasonMissingScope = "missing_scope" // a usable key without the route's scope
)

// AuthFailureWindow is how long failed authentications are counted before
// their events are written: at most one event per key id and client
// address per window.
const AuthFailureWindow = time.Minute

// maxAuthBuckets caps the events of one window. Failures beyond it (many
// made-up key ids, or many addresses) are counted in one overflow event of
// the system log, so a flood of bad requests cannot flood the log.
const maxAuthBuckets = 100

// authKey is what one event aggregates: the log it goes to, the key id the
// request named ("" when the secret named none) and the client address.
type authKey struct{ tenant, keyID, ip string }

// authBucket counts the failures of one authKey.
type authBucket struct {
	key         *trail.APIKey // nil when no stored key has the id
	overflow    bool
	first, last time.Time
	count       int
	reasons     map[string]int
	scopes      map[string]bool // the scopes that were missing
	routes      map[string]bool // route patterns: a bounded set
	userAgent   string          // the last one seen
}

// authFailures collects failed authentications between flushes.
type authFailures struct {
	mu      sync.Mutex
	buckets map[authKey]*authBucket
}

// failAuth counts a refused request for Trail's own log and returns err,
// the answer the client gets. keyID is the id the secret named, if any;
// key is the stored key of that id, if any. The secret itself is never
// kept.
func (s *Server) failAuth(r *http.Request, keyID string, key *trail.APIKey, reason, scope string, err error) error {
	k := authKey{keyID: keyID, ip: s.clientIP(r)}
	if key != nil {
		k.tenant = key.Tenant
	}
	a := &s.authFails
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.buckets == nil {
		a.buckets = map[authKey]*authBucket{}
	}
	b := a.buckets[k]
	if b == nil && len(a.buckets) >= maxAuthBuckets {
		k, key = authKey{keyID: "*", ip: "*"}, nil
		b = a.buckets[k]
	}
	if b == nil {
		b = &authBucket{key: key, overflow: k.keyID == "*", reasons: map[string]int{}, scopes: map[string]bool{},
			routes: map[string]bool{}, first: s.now()}
		a.buckets[k] = b
	}
	b.count++
	b.reasons[reason]++
	if scope != "" {
		b.scopes[scope] = true
	}
	if r.Pattern != "" {
		b.routes[r.Pattern] = true
	}
	b.last, b.userAgent = s.now(), cleanHeader(r.UserAgent(), 256)
	return err
}

// FlushAuthFailures writes one ActionAuthFailed event for each key id and
// client address that failed since the last flush: in the key's tenant
// when the key exists, in the system log when it does not. When the write
// fails the counts are kept for the next flush.
func (s *Server) FlushAuthFailures(ctx context.Context) error {
	a := &s.authFails
	a.mu.Lock()
	buckets := a.buckets
	a.buckets = nil
	a.mu.Unlock()
	if len(buckets) == 0 {
		return nil
	}
	events := make([]*trail.Event, 0, len(buckets))
	for k, b := range buckets {
		events = append(events, authEvent(k, b))
	}
	slices.SortFunc(events, func(x, y *trail.Event) int { return x.OccurredAt.Compare(y.OccurredAt) })
	if err := s.writer.Append(ctx, &trail.Batch{Events: events}); err != nil {
		a.keep(buckets)
		return err
	}
	return nil
}

// keep puts buckets that could not be written back, merged with those
// counted since.
func (a *authFailures) keep(buckets map[authKey]*authBucket) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.buckets == nil {
		a.buckets = buckets
		return
	}
	for k, old := range buckets {
		b := a.buckets[k]
		if b == nil {
			a.buckets[k] = old
			continue
		}
		b.first, b.count = old.first, b.count+old.count
		for r, n := range old.reasons {
			b.reasons[r] += n
		}
		maps.Copy(b.scopes, old.scopes)
		maps.Copy(b.routes, old.routes)
	}
}

// authEvent is the event of one bucket. Its actor is the key when it
// exists, else the key id the request named.
func authEvent(k authKey, b *authBucket) *trail.Event {
	actor := trail.Actor{Type: trail.ActorAPIKey, ID: k.keyID}
	var targets []trail.Target
	if b.key != nil {
		actor = b.key.Actor()
		targets = []trail.Target{{Type: trail.ActorAPIKey, ID: b.key.ID, Name: b.key.Name}}
	}
	if k.keyID == "" || b.overflow {
		actor = trail.Actor{Type: "anonymous"}
	}
	e := trail.NewSystemEvent(trail.AuditLog(k.tenant), ActionAuthFailed, actor,
		trail.Context{IP: k.ip, UserAgent: b.userAgent}, b.first, targets...)
	meta := map[string]any{
		"count": b.count, "reasons": b.reasons, "routes": slices.Sorted(maps.Keys(b.routes)),
		"first_at": trail.NormalTime(b.first), "last_at": trail.NormalTime(b.last),
	}
	if k.keyID != "" && !b.overflow {
		meta["key_id"] = k.keyID
	}
	if len(b.scopes) > 0 {
		meta["missing_scopes"] = slices.Sorted(maps.Keys(b.scopes))
	}
	if b.overflow {
		e.Context = trail.Context{}
		meta["overflow"] = "more than " + strconv.Itoa(maxAuthBuckets) + " key ids or addresses failed in one window"
	}
	e.Metadata, _ = json.Marshal(meta) // plain values always encode
	return e
}

// RunAuthFailures flushes failed authentications every AuthFailureWindow
// until ctx ends, then once more, so that none counted is lost at
// shutdown. Failures to write are logged and retried at the next tick.
func (s *Server) RunAuthFailures(ctx context.Context) {
	t := time.NewTicker(AuthFailureWindow)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if err := s.FlushAuthFailures(fctx); err != nil {
				s.logger.Error("record failed authentications at shutdown", "err", err)
			}
			return
		case <-t.C:
			if err := s.FlushAuthFailures(ctx); err != nil && ctx.Err() == nil {
				s.logger.Error("record failed authentications", "err", err)
			}
		}
	}
}
