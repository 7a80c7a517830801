package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/forward"
)

// maxForwarderRequestBytes bounds a forwarder body: room for a CA bundle.
const maxForwarderRequestBytes = 256 << 10

// forwarderView is a forwarder as the API shows it: secrets redacted,
// except the signing secret in the answer that created or rotated it.
type forwarderView struct {
	*trail.Forwarder
}

type forwarderList struct {
	Forwarders []forwarderView `json:"forwarders"`
}

type deadLetterPage struct {
	DeadLetters []*trail.DeadLetter `json:"dead_letters"`
	NextCursor  string              `json:"next_cursor,omitempty"`
}

type replayRequest struct {
	EventIDs []string `json:"event_ids"`
}

type replayResponse struct {
	Replaying int64 `json:"replaying"`
}

// view redacts f and fills in its status in terms its owner may see (see
// forward.ShowStatus). showSecret keeps the signing secret whole.
func view(ctx context.Context, fs trail.ForwarderStore, f *trail.Forwarder, head int64, showSecret bool) (forwarderView, error) {
	v := f.Redacted()
	if showSecret {
		v.Secret = f.Secret
	}
	v.Start = ""
	err := forward.ShowStatus(ctx, fs, v, head)
	return forwarderView{v}, err
}

// forwarderTenant is whose forwarders a request manages: a tenant key its
// own tenant's; a platform key the operator's (tenant ""), or a tenant's
// named by the tenant parameter.
func forwarderTenant(caller *trail.APIKey, requested string) (string, error) {
	switch {
	case caller.Platform:
		if requested != "" && !trail.ValidTenant(requested) {
			return "", trail.Invalid("tenant", "must be a tenant: 1 to 64 letters, digits, '.', '_' or '-'")
		}
		return requested, nil
	case requested == "" || requested == caller.Tenant:
		return caller.Tenant, nil
	default:
		return "", trail.Invalid("tenant", fmt.Sprintf("this API key manages forwarders of tenant %q only", caller.Tenant))
	}
}

// handleCreateForwarder creates a forwarder; the answer is the only one
// that shows its signing secret (until it is rotated).
func (s *Server) handleCreateForwarder(w http.ResponseWriter, r *http.Request) error {
	fs := s.store
	f, err := s.decodeNewForwarder(w, r)
	if err != nil {
		return err
	}
	if err := s.guard.CheckDestination(f); err != nil {
		return err
	}
	if err := forward.Create(r.Context(), fs, f, s.now()); err != nil {
		return fmt.Errorf("create forwarder: %w", err)
	}
	if err := s.record(r, f.Tenant, forward.ActionCreated, auditMeta(f, nil), forwarderTarget(f)); err != nil {
		// A forwarder whose creation is not in the log must not run.
		if derr := fs.DeleteForwarder(context.WithoutCancel(r.Context()), f.ID); derr != nil {
			s.logger.Error("delete unrecorded forwarder", "forwarder", f.ID, "err", derr)
		}
		return fmt.Errorf("record forwarder creation: %w", err)
	}
	v, err := s.createdView(r.Context(), fs, f)
	if err != nil {
		return fmt.Errorf("show forwarder: %w", err)
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

// createdView shows forwarder f as just created, with its signing secret
// and its starting point in the terms its owner may see.
func (s *Server) createdView(ctx context.Context, fs forward.Store, f *trail.Forwarder) (forwarderView, error) {
	stored, err := fs.Forwarder(ctx, f.Tenant, f.Name)
	if err != nil {
		return forwarderView{}, err
	}
	f.Status = stored.Status
	head, err := fs.StreamHead(ctx)
	if err != nil {
		return forwarderView{}, err
	}
	return view(ctx, fs, f, head, true)
}

// decodeNewForwarder reads the body of POST /v1/forwarders.
func (s *Server) decodeNewForwarder(w http.ResponseWriter, r *http.Request) (*trail.Forwarder, error) {
	var f trail.Forwarder
	if err := readJSON(w, r, maxForwarderRequestBytes, &f); err != nil {
		return nil, err
	}
	switch {
	case f.ID != "", f.ManagedBy != "", !f.CreatedAt.IsZero(), !f.UpdatedAt.IsZero(), f.Status != nil:
		return nil, trail.Invalid("body", "id, managed_by, created_at, updated_at and status are set by Trail")
	case f.PreviousSecret != "":
		return nil, trail.Invalid("previous_secret", "is set by Trail when the secret is rotated")
	case !f.PreviousSecretUntil.IsZero():
		return nil, trail.Invalid("previous_secret_until", "is set by Trail when the secret is rotated")
	}
	tenant, err := forwarderTenant(apiKey(r), f.Tenant)
	f.Tenant, f.ManagedBy = tenant, trail.ManagedByAPI
	return &f, err
}

// handleListForwarders lists the caller's forwarders with their status; a
// platform key lists every forwarder.
func (s *Server) handleListForwarders(w http.ResponseWriter, r *http.Request) error {
	fs := s.store
	list, err := fs.Forwarders(r.Context(), apiKey(r).ReadScope(""))
	if err != nil {
		return fmt.Errorf("list forwarders: %w", err)
	}
	head, err := fs.StreamHead(r.Context())
	if err != nil {
		return fmt.Errorf("list forwarders: %w", err)
	}
	out := forwarderList{Forwarders: make([]forwarderView, len(list))}
	for i, f := range list {
		if out.Forwarders[i], err = view(r.Context(), fs, f, head, false); err != nil {
			return fmt.Errorf("list forwarders: %w", err)
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// handleGetForwarder shows one forwarder: settings, state, last success,
// last error and lag.
func (s *Server) handleGetForwarder(w http.ResponseWriter, r *http.Request) error {
	fs, f, err := s.pathForwarder(r)
	if err != nil {
		return err
	}
	head, err := fs.StreamHead(r.Context())
	if err != nil {
		return err
	}
	v, err := view(r.Context(), fs, f, head, false)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// pathForwarder loads the forwarder named in the path, of the tenant the
// caller manages (see forwarderTenant; ?tenant= for platform keys).
func (s *Server) pathForwarder(r *http.Request, params ...string) (forward.Store, *trail.Forwarder, error) {
	fs := s.store
	if err := checkParams(query(r), append(params, "tenant")); err != nil {
		return nil, nil, err
	}
	tenant, err := forwarderTenant(apiKey(r), query(r).Get("tenant"))
	if err != nil {
		return nil, nil, err
	}
	f, err := fs.Forwarder(r.Context(), tenant, r.PathValue("name"))
	if err != nil {
		return nil, nil, fmt.Errorf("get forwarder: %w", err)
	}
	return fs, f, nil
}

// handlePatchForwarder changes a forwarder's settings with a JSON merge
// patch. Its cursor and dead letters stay. The answer shows the signing
// secret whole only when the patch rotated it ({"secret": null}).
func (s *Server) handlePatchForwarder(w http.ResponseWriter, r *http.Request) error {
	fs, f, err := s.editableForwarder(r)
	if err != nil {
		return err
	}
	next, err := s.patchedForwarder(w, r, f)
	if err != nil {
		return err
	}
	if changed := forward.Changed(f, next); len(changed) > 0 {
		if err := s.record(r, f.Tenant, forward.ActionUpdated, auditMeta(next, changed), forwarderTarget(f)); err != nil {
			return fmt.Errorf("record forwarder change: %w", err)
		}
		if err := fs.UpdateForwarder(r.Context(), next); err != nil {
			return fmt.Errorf("update forwarder: %w", err)
		}
	}
	next.Status = f.Status
	head, err := fs.StreamHead(r.Context())
	if err != nil {
		return fmt.Errorf("show forwarder: %w", err)
	}
	v, err := view(r.Context(), fs, next, head, next.Secret != f.Secret)
	if err != nil {
		return fmt.Errorf("show forwarder: %w", err)
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// patchedForwarder is f changed by the merge patch in r's body, checked.
func (s *Server) patchedForwarder(w http.ResponseWriter, r *http.Request, f *trail.Forwarder) (*trail.Forwarder, error) {
	body, err := readBody(w, r, maxForwarderRequestBytes)
	if err != nil {
		return nil, err
	}
	if err := checkPatch(body); err != nil {
		return nil, err
	}
	next, err := forward.Patch(f, body, s.now())
	if err != nil {
		return nil, err
	}
	return next, s.guard.CheckDestination(next)
}

// checkPatch refuses a merge patch with a repeated or unknown member,
// named by its path: forward.Patch reads the patch into a map, where the
// last of two names would win.
func checkPatch(body []byte) error {
	if field, problem := trail.CheckMembers(body, reflect.TypeFor[trail.Forwarder]()); problem != "" {
		return trail.Invalid(field, problem)
	}
	return nil
}

// editableForwarder loads the path's forwarder for a change: those of the
// config file change only there.
func (s *Server) editableForwarder(r *http.Request) (forward.Store, *trail.Forwarder, error) {
	fs, f, err := s.pathForwarder(r)
	if err != nil {
		return nil, nil, err
	}
	if f.ManagedBy == trail.ManagedByConfig {
		return nil, nil, trail.Errorf(trail.ECONFLICT, "forwarder %q is managed by the server's config file; change it there", f.Name)
	}
	return fs, f, nil
}

// handleDeleteForwarder deletes a forwarder with its progress and dead
// letters. The deletion is recorded before it is made.
func (s *Server) handleDeleteForwarder(w http.ResponseWriter, r *http.Request) error {
	fs, f, err := s.editableForwarder(r)
	if err != nil {
		return err
	}
	if err := s.record(r, f.Tenant, forward.ActionDeleted, auditMeta(f, nil), forwarderTarget(f)); err != nil {
		return fmt.Errorf("record forwarder deletion: %w", err)
	}
	if err := fs.DeleteForwarder(r.Context(), f.ID); err != nil {
		return fmt.Errorf("delete forwarder: %w", err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleListDeadLetters lists the events a forwarder gave up on, oldest
// first, a page at a time.
func (s *Server) handleListDeadLetters(w http.ResponseWriter, r *http.Request) error {
	fs, f, err := s.pathForwarder(r, "limit", "cursor")
	if err != nil {
		return err
	}
	q := trail.DeadLetterQuery{Limit: trail.DefaultLimit}
	if err := s.deadLetterQuery(r, fs, f, &q); err != nil {
		return err
	}
	dls, err := fs.DeadLetters(r.Context(), f.ID, trail.DeadLetterQuery{After: q.After, Limit: q.Limit + 1})
	if err != nil {
		return err
	}
	page := deadLetterPage{DeadLetters: dls}
	if len(dls) > q.Limit {
		page.DeadLetters = dls[:q.Limit]
		page.NextCursor = deadLetterCursor(f, dls[q.Limit-1])
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// deadLetterCursor is where the next page of f's dead letters starts,
// after d: its stream position for an operator forwarder, its event's id
// for a tenant's, which must not learn stream positions (they count every
// tenant's events).
func deadLetterCursor(f *trail.Forwarder, d *trail.DeadLetter) string {
	if f.Tenant == trail.SystemTenant {
		return strconv.FormatInt(d.Pos, 10)
	}
	return d.EventID
}

// deadLetterAfter reads a cursor that deadLetterCursor made for f.
func (s *Server) deadLetterAfter(ctx context.Context, fs forward.Store, f *trail.Forwarder, c string) (int64, error) {
	bad := trail.Invalid("cursor", "not a cursor this server issued")
	if f.Tenant == trail.SystemTenant {
		n, err := strconv.ParseInt(c, 10, 64)
		if err != nil || n < 0 {
			return 0, bad
		}
		return n, nil
	}
	if !trail.ValidID(c) {
		return 0, bad
	}
	e, err := fs.Event(ctx, trail.Scope{Tenant: f.Tenant}, c)
	switch {
	case trail.ErrorCode(err) == trail.ENOTFOUND:
		return 0, bad
	case err != nil:
		return 0, fmt.Errorf("read dead letter cursor: %w", err)
	}
	return e.Pos, nil
}

func (s *Server) deadLetterQuery(r *http.Request, fs forward.Store, f *trail.Forwarder, q *trail.DeadLetterQuery) error {
	v := query(r)
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > trail.MaxLimit {
			return trail.Invalid("limit", "must be an integer from 1 to 1000")
		}
		q.Limit = n
	}
	if c := v.Get("cursor"); c != "" {
		n, err := s.deadLetterAfter(r.Context(), fs, f, c)
		if err != nil {
			return err
		}
		q.After = n
	}
	return nil
}

// handleReplayDeadLetters asks the forwarder to deliver dead letters again:
// those of event_ids, or all. Delivery happens in the forwarder's loop; a
// dead letter leaves the list once delivered.
func (s *Server) handleReplayDeadLetters(w http.ResponseWriter, r *http.Request) error {
	fs, f, err := s.pathForwarder(r)
	if err != nil {
		return err
	}
	var req replayRequest
	if err := decodeReplay(w, r, &req); err != nil {
		return err
	}
	meta := map[string]any{"kind": f.Kind, "event_ids": len(req.EventIDs)}
	if err := s.record(r, f.Tenant, forward.ActionReplayed, meta, forwarderTarget(f)); err != nil {
		return fmt.Errorf("record replay: %w", err)
	}
	n, err := fs.ReplayDeadLetters(r.Context(), f.ID, req.EventIDs)
	if err != nil {
		return fmt.Errorf("replay dead letters: %w", err)
	}
	writeJSON(w, http.StatusAccepted, replayResponse{Replaying: n})
	return nil
}

// decodeReplay reads the optional body of a replay request.
func decodeReplay(w http.ResponseWriter, r *http.Request, req *replayRequest) error {
	body, err := readBody(w, r, maxForwarderRequestBytes)
	if err != nil || len(body) == 0 {
		return err
	}
	if err := decodeJSON(body, req); err != nil {
		return err
	}
	// "event_ids": [] (or null) is a list of nothing, not a request for
	// everything: a client whose list came out empty must not replay
	// every dead letter. Only a body without event_ids replays all.
	var given struct {
		EventIDs json.RawMessage `json:"event_ids"`
	}
	if json.Unmarshal(body, &given) == nil && given.EventIDs != nil && len(req.EventIDs) == 0 {
		return trail.Invalid("event_ids", "empty: list the ids to replay, or leave event_ids out to replay all")
	}
	if len(req.EventIDs) > trail.MaxLimit {
		return trail.Invalid("event_ids", "at most 1000 ids")
	}
	for i, id := range req.EventIDs {
		if !trail.ValidID(id) {
			return trail.Invalid(fmt.Sprintf("event_ids[%d]", i), "not an event id")
		}
	}
	return nil
}

func forwarderTarget(f *trail.Forwarder) trail.Target {
	return trail.Target{Type: "forwarder", ID: f.ID, Name: f.Name}
}

// auditMeta is the metadata of a forwarder's audit event: no setting's
// value, so no secret.
func auditMeta(f *trail.Forwarder, changed []string) map[string]any {
	meta := map[string]any{"kind": f.Kind, "managed_by": f.ManagedBy}
	if len(changed) > 0 {
		meta["changed"] = changed
	}
	return meta
}
