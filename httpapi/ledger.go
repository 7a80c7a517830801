package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/ledger"
)

// The ledger routes serve a log's signed checkpoint, inclusion and
// consistency proofs, and the raw material `trail verify --url` checks:
// the log's stored rows, its tree tiles and its pruned ranges. A log is
// named by the "log" parameter as in checkpoint origins: a tenant, or
// "~system" for system events. A tenant key sees its own log and the
// system log; a platform key sees every log and defaults to the system log.

// maxTilesPerRequest bounds the tiles one GET /v1/ledger/tiles returns.
const maxTilesPerRequest = 200

// handleLedgerPubkey answers the note verifier key of the checkpoints:
// the deployment's, or with ?log= the same key named after that log's
// origin, which is what witnesses and tlog-checkpoint clients pin. The
// key is public, so any log name is answered, known or not.
func (s *Server) handleLedgerPubkey(w http.ResponseWriter, r *http.Request) error {
	if err := s.ledgerParams(r, "log"); err != nil {
		return err
	}
	name := query(r).Get("log")
	if name == "" {
		writeText(w, s.ledger.Key().VerifierKey()+"\n")
		return nil
	}
	tenant := name
	if name == ledger.SystemLog {
		tenant = trail.SystemTenant
	} else if !trail.ValidTenant(name) && name != trail.OperatorTenant {
		return trail.Invalid("log", "must be a tenant name, ~system for system events or @operator")
	}
	vkey, err := s.ledger.Key().LogVerifierKey(ledger.LogOrigin(s.ledger.Origin(), tenant))
	if err != nil {
		return fmt.Errorf("ledger pubkey: %w", err)
	}
	writeText(w, vkey+"\n")
	return nil
}

// handleLedgerCheckpoint answers the log's latest signed checkpoint, once
// it covers every event stored before the request.
func (s *Server) handleLedgerCheckpoint(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.ledgerLog(r, "log")
	if err != nil {
		return err
	}
	head, err := s.ledger.Checkpoint(r.Context(), tenant)
	if err != nil {
		return fmt.Errorf("ledger checkpoint: %w", err)
	}
	w.Header().Set("Trail-Tree-Size", strconv.FormatInt(head.Size, 10))
	writeText(w, string(head.Checkpoint))
	return nil
}

// handleEventProof answers the inclusion proof of one event.
func (s *Server) handleEventProof(w http.ResponseWriter, r *http.Request) error {
	if err := s.ledgerParams(r, "tree_size"); err != nil {
		return err
	}
	size, err := intParam(query(r), "tree_size", 0, 1)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if !trail.ValidID(id) {
		return trail.Errorf(trail.ENOTFOUND, "event not found")
	}
	e, err := s.store.Event(r.Context(), apiKey(r).ReadScope(""), id)
	if err != nil {
		return fmt.Errorf("event proof: %w", err)
	}
	p, err := s.ledger.InclusionProof(r.Context(), e, size)
	if err != nil {
		return fmt.Errorf("event proof: %w", err)
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// handleLedgerConsistency answers the consistency proof between two tree
// sizes of a log.
func (s *Server) handleLedgerConsistency(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.ledgerLog(r, "log", "from", "to")
	if err != nil {
		return err
	}
	v := query(r)
	if v.Get("from") == "" {
		return trail.Invalid("from", "required: the tree size of the older checkpoint")
	}
	from, err := intParam(v, "from", 0, 0)
	if err != nil {
		return err
	}
	to, err := intParam(v, "to", 0, 1)
	if err != nil {
		return err
	}
	p, err := s.ledger.ConsistencyProof(r.Context(), tenant, from, to)
	if err != nil {
		return fmt.Errorf("consistency proof: %w", err)
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// ledgerLogJSON is one log of GET /v1/ledger/logs.
type ledgerLogJSON struct {
	Log        string    `json:"log"`
	Tenant     string    `json:"tenant"`
	Size       int64     `json:"size"`
	Checkpoint string    `json:"checkpoint"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// handleLedgerLogs lists the logs the key may see, with their checkpoints.
func (s *Server) handleLedgerLogs(w http.ResponseWriter, r *http.Request) error {
	if err := s.ledgerParams(r); err != nil {
		return err
	}
	heads, err := s.ledger.Store().LedgerHeads(r.Context())
	if err != nil {
		return fmt.Errorf("ledger logs: %w", err)
	}
	scope := apiKey(r).ReadScope("")
	logs := []ledgerLogJSON{}
	for _, h := range heads {
		if scope.Visible(h.Tenant) {
			logs = append(logs, ledgerLogJSON{Log: logName(h.Tenant), Tenant: h.Tenant, Size: h.Size,
				Checkpoint: string(h.Checkpoint), UpdatedAt: h.UpdatedAt})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"logs": logs})
	return nil
}

// ledgerRowJSON is one stored row of GET /v1/ledger/rows.
type ledgerRowJSON struct {
	Seq int64 `json:"seq"`
	// Event is the event's JSON exactly as stored: what its leaf hashes.
	Event    json.RawMessage `json:"event"`
	Conflict string          `json:"conflict,omitempty"`
}

// handleLedgerRows answers a log's stored rows in stored-seq order,
// duplicates included, exactly as the verifier reads them.
func (s *Server) handleLedgerRows(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.ledgerLog(r, "log", "from", "limit")
	if err != nil {
		return err
	}
	v := query(r)
	from, err := intParam(v, "from", 0, 0)
	if err != nil {
		return err
	}
	limit, err := intParam(v, "limit", trail.MaxLimit, 1)
	if err != nil {
		return err
	}
	if limit > trail.MaxLimit {
		return trail.Invalid("limit", "must be an integer from 1 to 1000")
	}
	rows, err := s.ledger.Store().LedgerRows(r.Context(), tenant, from, int(limit))
	if err != nil {
		return fmt.Errorf("ledger rows: %w", err)
	}
	out := make([]ledgerRowJSON, len(rows))
	for i, row := range rows {
		data := row.Data
		if data == nil {
			data, _ = json.Marshal(row.Event)
		}
		out[i] = ledgerRowJSON{Seq: row.Seq, Event: data, Conflict: row.Conflict}
	}
	writeJSON(w, http.StatusOK, map[string]any{"rows": out})
	return nil
}

// ledgerTileJSON is one tile of GET /v1/ledger/tiles.
type ledgerTileJSON struct {
	Level  int    `json:"level"`
	Index  int64  `json:"index"`
	Hashes []byte `json:"hashes"`
}

// handleLedgerTiles answers the stored tiles named by tile=LEVEL/INDEX,
// a parameter given 1 to 200 times: `trail verify --server` asks for every
// tile a proof needs in one request.
func (s *Server) handleLedgerTiles(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.ledgerLog(r, "log", "tile")
	if err != nil {
		return err
	}
	ids, err := tileParams(query(r)["tile"])
	if err != nil {
		return err
	}
	tiles, err := s.ledger.Store().LedgerTiles(r.Context(), tenant, ids)
	if err != nil {
		return fmt.Errorf("ledger tiles: %w", err)
	}
	out := make([]ledgerTileJSON, len(tiles))
	for i, t := range tiles {
		out[i] = ledgerTileJSON{Level: t.Level, Index: t.Index, Hashes: t.Hashes}
	}
	writeJSON(w, http.StatusOK, map[string]any{"tiles": out})
	return nil
}

func tileParams(vals []string) ([]trail.LedgerTileID, error) {
	if len(vals) == 0 || len(vals) > maxTilesPerRequest {
		return nil, trail.Invalid("tile", fmt.Sprintf("give 1 to %d tiles as LEVEL/INDEX", maxTilesPerRequest))
	}
	ids := make([]trail.LedgerTileID, len(vals))
	for i, v := range vals {
		var p trail.Problems
		if checkValue(&p, "tile", v); p.Err() != nil {
			return nil, p.Err()
		}
		l, x, ok := strings.Cut(v, "/")
		level, err1 := strconv.Atoi(l)
		index, err2 := strconv.ParseInt(x, 10, 64)
		if !ok || err1 != nil || err2 != nil || level < 0 || level > 63 || index < 0 {
			return nil, trail.Invalid("tile", fmt.Sprintf("%.40q is not LEVEL/INDEX, like 0/12", v))
		}
		ids[i] = trail.LedgerTileID{Level: level, Index: index}
	}
	return ids, nil
}

// prunedJSON is one range of GET /v1/ledger/pruned.
type prunedJSON struct {
	From       int64     `json:"from"`
	To         int64     `json:"to"`
	Checkpoint string    `json:"checkpoint"`
	PrunedAt   time.Time `json:"pruned_at"`
}

// handleLedgerPruned answers the ranges of a log that retention deleted.
func (s *Server) handleLedgerPruned(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.ledgerLog(r, "log")
	if err != nil {
		return err
	}
	ranges, err := s.ledger.Store().PrunedRanges(r.Context(), tenant)
	if err != nil {
		return fmt.Errorf("pruned ranges: %w", err)
	}
	out := make([]prunedJSON, len(ranges))
	for i, p := range ranges {
		out[i] = prunedJSON{From: p.From, To: p.To, Checkpoint: string(p.Checkpoint), PrunedAt: p.PrunedAt}
	}
	writeJSON(w, http.StatusOK, map[string]any{"pruned": out})
	return nil
}

// movedJSON is one move of GET /v1/ledger/moved.
type movedJSON struct {
	Seq     int64     `json:"seq"`
	ToLog   string    `json:"to_log"`
	ToSeq   int64     `json:"to_seq"`
	MovedAt time.Time `json:"moved_at"`
}

// handleLedgerMoved answers the sealed events moved out of a log.
func (s *Server) handleLedgerMoved(w http.ResponseWriter, r *http.Request) error {
	tenant, err := s.ledgerLog(r, "log")
	if err != nil {
		return err
	}
	moves, err := s.ledger.Store().MovedEvents(r.Context(), tenant)
	if err != nil {
		return fmt.Errorf("moved events: %w", err)
	}
	out := make([]movedJSON, len(moves))
	for i, m := range moves {
		out[i] = movedJSON{Seq: m.Seq, ToLog: logName(m.ToTenant), ToSeq: m.ToSeq, MovedAt: m.MovedAt}
	}
	writeJSON(w, http.StatusOK, map[string]any{"moved": out})
	return nil
}

// ledgerReady is 503 when the server runs without a ledger.
func (s *Server) ledgerReady() error {
	if s.ledger == nil {
		return trail.Errorf(trail.EUNAVAILABLE, "this server runs without the ledger")
	}
	return nil
}

// ledgerParams checks that the ledger runs, then r's parameters against
// allowed.
func (s *Server) ledgerParams(r *http.Request, allowed ...string) error {
	if err := s.ledgerReady(); err != nil {
		return err
	}
	return checkParams(query(r), allowed)
}

// ledgerLog checks r's parameters against allowed and resolves the log it
// names. Another tenant's log is "not found", as its events are.
func (s *Server) ledgerLog(r *http.Request, allowed ...string) (string, error) {
	if err := s.ledgerParams(r, allowed...); err != nil {
		return "", err
	}
	key, name := apiKey(r), query(r).Get("log")
	switch {
	case name == ledger.SystemLog || name == "" && key.Platform:
		return trail.SystemTenant, nil
	case name == "":
		return key.Tenant, nil
	case name == trail.OperatorTenant && key.Platform:
		return name, nil
	case !trail.ValidTenant(name) && name != trail.OperatorTenant:
		return "", trail.Invalid("log", "must be a tenant name, ~system for system events or @operator")
	case !key.Platform && name != key.Tenant:
		return "", trail.Errorf(trail.ENOTFOUND, "log %q not found", name)
	}
	return name, nil
}

// intParam parses an optional integer parameter >= min, def when absent.
func intParam(v url.Values, name string, def, min int64) (int64, error) {
	s := v.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < min {
		return 0, trail.Invalid(name, fmt.Sprintf("must be an integer >= %d", min))
	}
	return n, nil
}

// logName is the name of tenant's log in origins and the log parameter.
func logName(tenant string) string {
	if tenant == trail.SystemTenant {
		return ledger.SystemLog
	}
	return tenant
}

func writeText(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(body))
}
