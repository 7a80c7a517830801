package tables

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/trailhq/trail"
)

// LastSettings returns node's last settings fingerprint or, when node has
// none, the newest of any node; nil when there is none.
func (t *Tables) LastSettings(ctx context.Context, node string) (*trail.SettingsFingerprint, error) {
	fps, err := query(t, ctx, scanSettings, `SELECT node, salt, hashes, started_at FROM node_settings
		ORDER BY node = ? DESC, started_at DESC, node LIMIT 1`, node)
	switch {
	case err != nil:
		return nil, fmt.Errorf("read settings fingerprint: %w", err)
	case len(fps) == 0:
		return nil, nil
	}
	return fps[0], nil
}

// SaveSettings stores fp as fp.Node's last start.
func (t *Tables) SaveSettings(ctx context.Context, fp *trail.SettingsFingerprint) error {
	hashes, err := json.Marshal(fp.Hashes)
	if err != nil {
		return fmt.Errorf("save settings fingerprint: %w", err)
	}
	_, err = t.exec(ctx, `INSERT INTO node_settings (node, salt, hashes, started_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (node) DO UPDATE SET salt = excluded.salt, hashes = excluded.hashes, started_at = excluded.started_at`,
		fp.Node, fp.Salt, t.d.Doc(hashes), t.d.Time(fp.StartedAt))
	if err != nil {
		return fmt.Errorf("save settings fingerprint: %w", err)
	}
	return nil
}

func scanSettings(rows *sql.Rows, fp *trail.SettingsFingerprint) error {
	var hashes []byte
	if err := rows.Scan(&fp.Node, &fp.Salt, &hashes, ScanTime(&fp.StartedAt)); err != nil {
		return err
	}
	return json.Unmarshal(hashes, &fp.Hashes)
}
