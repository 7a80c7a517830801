package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/trailhq/trail"
)

// Remote is a Source that reads a Trail server's ledger through its API
// (GET /v1/ledger/...), for `trail verify --url`. Like any Source, nothing
// it returns is trusted: the verifier checks it against signatures made by
// the key it is given, not one the server hands out.
type Remote struct {
	// URL is the server's base URL, e.g. "https://trail.example.com".
	URL string
	// APIKey is a key with the events:read scope.
	APIKey string
	// Client sends the requests; nil means a client with a 60 s timeout.
	Client *http.Client
}

var _ Source = (*Remote)(nil)

// get sends GET path?query and decodes a JSON answer into v, or returns
// the body of a text answer.
func (r *Remote) get(ctx context.Context, path string, query url.Values, v any) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(r.URL, "/")+path+"?"+query.Encode(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+r.APIKey)
	c := r.Client
	if c == nil {
		c = &http.Client{Timeout: time.Minute}
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error *trail.Error }
		if json.Unmarshal(body, &e) == nil && e.Error != nil {
			return nil, e.Error
		}
		return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			return nil, fmt.Errorf("GET %s: %w", path, err)
		}
	}
	return body, nil
}

func logParam(tenant string) url.Values {
	name := tenant
	if tenant == trail.SystemTenant {
		name = SystemLog
	}
	return url.Values{"log": {name}}
}

// LedgerHead reads the log's latest checkpoint.
func (r *Remote) LedgerHead(ctx context.Context, tenant string) (*trail.LedgerHead, error) {
	note, err := r.get(ctx, "/v1/ledger/checkpoint", logParam(tenant), nil)
	if err != nil {
		return nil, err
	}
	cp, err := ParseCheckpoint(string(note))
	if err != nil {
		return nil, err
	}
	return &trail.LedgerHead{Tenant: tenant, Size: cp.Size, Checkpoint: note}, nil
}

// LedgerHeads reads the logs the API key may see.
func (r *Remote) LedgerHeads(ctx context.Context) ([]*trail.LedgerHead, error) {
	var resp struct {
		Logs []struct {
			Tenant     string `json:"tenant"`
			Size       int64  `json:"size"`
			Checkpoint string `json:"checkpoint"`
		} `json:"logs"`
	}
	if _, err := r.get(ctx, "/v1/ledger/logs", url.Values{}, &resp); err != nil {
		return nil, err
	}
	heads := make([]*trail.LedgerHead, len(resp.Logs))
	for i, l := range resp.Logs {
		heads[i] = &trail.LedgerHead{Tenant: l.Tenant, Size: l.Size, Checkpoint: []byte(l.Checkpoint)}
	}
	return heads, nil
}

// LedgerTiles reads tiles, 200 per request.
func (r *Remote) LedgerTiles(ctx context.Context, tenant string, ids []trail.LedgerTileID) ([]*trail.LedgerTile, error) {
	var tiles []*trail.LedgerTile
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 200)]
		ids = ids[len(chunk):]
		q := logParam(tenant)
		for _, id := range chunk {
			q.Add("tile", strconv.Itoa(id.Level)+"/"+strconv.FormatInt(id.Index, 10))
		}
		var resp struct {
			Tiles []struct {
				Level  int    `json:"level"`
				Index  int64  `json:"index"`
				Hashes []byte `json:"hashes"`
			} `json:"tiles"`
		}
		if _, err := r.get(ctx, "/v1/ledger/tiles", q, &resp); err != nil {
			return nil, err
		}
		for _, t := range resp.Tiles {
			tiles = append(tiles, &trail.LedgerTile{LedgerTileID: trail.LedgerTileID{Level: t.Level, Index: t.Index}, Hashes: t.Hashes})
		}
	}
	return tiles, nil
}

// LedgerRows reads stored rows of the log.
func (r *Remote) LedgerRows(ctx context.Context, tenant string, from int64, limit int) ([]trail.LedgerRow, error) {
	q := logParam(tenant)
	q.Set("from", strconv.FormatInt(from, 10))
	q.Set("limit", strconv.Itoa(min(max(limit, 1), trail.MaxLimit)))
	var resp struct {
		Rows []struct {
			Seq      int64           `json:"seq"`
			Event    json.RawMessage `json:"event"`
			Conflict string          `json:"conflict"`
		} `json:"rows"`
	}
	if _, err := r.get(ctx, "/v1/ledger/rows", q, &resp); err != nil {
		return nil, err
	}
	rows := make([]trail.LedgerRow, len(resp.Rows))
	for i, row := range resp.Rows {
		var e trail.Event
		if err := json.Unmarshal(row.Event, &e); err != nil {
			return nil, fmt.Errorf("GET /v1/ledger/rows: seq %d: %w", row.Seq, err)
		}
		rows[i] = trail.LedgerRow{Seq: row.Seq, Event: &e, Data: row.Event, Conflict: row.Conflict}
	}
	return rows, nil
}

// PrunedRanges reads the log's pruned ranges.
func (r *Remote) PrunedRanges(ctx context.Context, tenant string) ([]*trail.PrunedRange, error) {
	var resp struct {
		Pruned []struct {
			From       int64     `json:"from"`
			To         int64     `json:"to"`
			Checkpoint string    `json:"checkpoint"`
			PrunedAt   time.Time `json:"pruned_at"`
		} `json:"pruned"`
	}
	if _, err := r.get(ctx, "/v1/ledger/pruned", logParam(tenant), &resp); err != nil {
		return nil, err
	}
	out := make([]*trail.PrunedRange, len(resp.Pruned))
	for i, p := range resp.Pruned {
		out[i] = &trail.PrunedRange{Tenant: tenant, From: p.From, To: p.To, Checkpoint: []byte(p.Checkpoint), PrunedAt: p.PrunedAt}
	}
	return out, nil
}

// MovedEvents reads the recorded moves out of the log.
func (r *Remote) MovedEvents(ctx context.Context, tenant string) ([]*trail.MovedEvent, error) {
	var resp struct {
		Moved []struct {
			Seq     int64     `json:"seq"`
			ToLog   string    `json:"to_log"`
			ToSeq   int64     `json:"to_seq"`
			MovedAt time.Time `json:"moved_at"`
		} `json:"moved"`
	}
	if _, err := r.get(ctx, "/v1/ledger/moved", logParam(tenant), &resp); err != nil {
		return nil, err
	}
	out := make([]*trail.MovedEvent, len(resp.Moved))
	for i, m := range resp.Moved {
		out[i] = &trail.MovedEvent{Tenant: tenant, Seq: m.Seq, ToTenant: originTenant("/" + m.ToLog), ToSeq: m.ToSeq, MovedAt: m.MovedAt}
	}
	return out, nil
}
