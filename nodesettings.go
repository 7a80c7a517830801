package trail

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"time"
)

// ActionSettingsUpdated is recorded when a node starts with settings that
// differ from those of the last start; its metadata names the settings
// that changed, never their values.
const ActionSettingsUpdated = "settings.updated"

// SettingsFingerprint is what a node started with: a keyed hash of each
// setting's value, by the setting's name. The next start tells from it
// which settings changed, while the store holds no value, so no secret
// (keys, tokens, passwords in a database URL).
type SettingsFingerprint struct {
	// Node names the node: its host name.
	Node string
	// Salt keys the hashes (hex), so that equal values of two deployments
	// hash differently and a short secret is not found from a table of
	// hashes. A fingerprint keeps the salt of the one it follows.
	Salt string
	// Hashes holds the hex HMAC-SHA-256 of each setting's value.
	Hashes    map[string]string
	StartedAt time.Time
}

// SettingsStore keeps the fingerprint of each node's last start.
type SettingsStore interface {
	// LastSettings returns the fingerprint that node saved last or, when
	// it never saved one, the newest any node saved: a new node (a new
	// container, say) is compared with the last start of the deployment.
	// It returns nil when no node ever saved one.
	LastSettings(ctx context.Context, node string) (*SettingsFingerprint, error)
	// SaveSettings stores fp as the last start of fp.Node.
	SaveSettings(ctx context.Context, fp *SettingsFingerprint) error
}

// FingerprintSettings returns the fingerprint of node starting at now with
// values (setting name to value), keyed with prev's salt when prev is set,
// and the names of the settings that were added, removed or changed since
// prev, sorted. With no prev, nothing changed.
func FingerprintSettings(prev *SettingsFingerprint, node string, values map[string]string, now time.Time) (*SettingsFingerprint, []string) {
	fp := &SettingsFingerprint{Node: node, Salt: randomHex(16), Hashes: make(map[string]string, len(values)),
		StartedAt: NormalTime(now)}
	if prev != nil {
		fp.Salt = prev.Salt
	}
	for name, v := range values {
		mac := hmac.New(sha256.New, []byte(fp.Salt))
		mac.Write([]byte(name + "\x00" + v))
		fp.Hashes[name] = hex.EncodeToString(mac.Sum(nil))
	}
	if prev == nil {
		return fp, nil
	}
	var changed []string
	for name := range maps.Keys(fp.Hashes) {
		if prev.Hashes[name] != fp.Hashes[name] {
			changed = append(changed, name)
		}
	}
	for name := range maps.Keys(prev.Hashes) {
		if _, ok := fp.Hashes[name]; !ok {
			changed = append(changed, name)
		}
	}
	slices.Sort(changed)
	return fp, changed
}
