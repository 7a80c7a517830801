// Package secretbox encrypts the secrets that Trail keeps in its store
// (forwarder tokens, webhook signing secrets, alert webhook secrets) with
// AES-256-GCM from the standard library, under a key kept in a file beside
// the ledger key.
//
// A sealed value names the key that sealed it ("tsec1:" + key id + ":" +
// base64 of nonce and ciphertext), so a key file may hold several keys
// while a rotation re-encrypts every value under the newest. Values that
// were stored before encryption existed are plain JSON; Open returns them
// as they are, and the stores seal them at start.
package secretbox

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// KeyFile is the key file's name in the data folder.
const KeyFile = "secrets.key"

// prefix starts every sealed value.
const prefix = "tsec1:"

// key is one AES-256 key and its id: the first 8 bytes of its SHA-256, in
// hex.
type key struct {
	id   string
	aead cipher.AEAD
	raw  []byte
}

// Keyring holds the keys of a key file: the first seals, all open. It
// re-reads the file when it changes (a rotation run by another process),
// so a running server follows `trail secrets rotate`. It is safe for
// concurrent use.
type Keyring struct {
	path string

	mu    sync.Mutex
	keys  []*key // keys[0] seals
	mtime time.Time
	size  int64
}

// LoadOrCreate loads the key file at path, creating it with one new key
// (mode 0600, its folder 0700) if it does not exist.
func LoadOrCreate(path string) (*Keyring, error) {
	if _, err := os.Stat(path); err == nil {
		return Load(path) // its folder may be read-only (a mounted secret)
	}
	k, err := newKey()
	if err != nil {
		return nil, err
	}
	if err := writeNew(path, format([]*key{k})); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("create secrets key: %w", err)
	}
	return Load(path)
}

// Load loads the key file at path.
func Load(path string) (*Keyring, error) {
	r := &Keyring{path: path}
	if err := r.reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// Path returns the key file's path.
func (r *Keyring) Path() string { return r.path }

// CurrentID returns the id of the key that seals.
func (r *Keyring) CurrentID() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refreshLocked()
	return r.keys[0].id
}

// IDs returns the ids of every key in the file, the sealing key first.
func (r *Keyring) IDs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refreshLocked()
	ids := make([]string, len(r.keys))
	for i, k := range r.keys {
		ids[i] = k.id
	}
	return ids
}

// Seal encrypts plain under the current key, bound to context (say the
// table and row id), so that a sealed value copied to another row does not
// open.
func (r *Keyring) Seal(plain []byte, context string) ([]byte, error) {
	r.mu.Lock()
	r.refreshLocked()
	k := r.keys[0]
	r.mu.Unlock()
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	ct := k.aead.Seal(nonce, nonce, plain, []byte(context))
	out := make([]byte, 0, len(prefix)+len(k.id)+1+base64.RawStdEncoding.EncodedLen(len(ct)))
	out = append(out, prefix...)
	out = append(out, k.id...)
	out = append(out, ':')
	return base64.RawStdEncoding.AppendEncode(out, ct), nil
}

// Open decrypts a value that Seal made with the same context. A value that
// was never sealed (plain text stored before encryption) is returned as it
// is.
func (r *Keyring) Open(stored []byte, context string) ([]byte, error) {
	if !IsSealed(stored) {
		return stored, nil
	}
	id, b64, ok := bytes.Cut(stored[len(prefix):], []byte(":"))
	if !ok {
		return nil, errors.New("secretbox: malformed sealed value")
	}
	k := r.find(string(id))
	if k == nil {
		return nil, fmt.Errorf("secretbox: a secret is sealed with key %s, which is not in %s", id, r.path)
	}
	ct, err := base64.RawStdEncoding.AppendDecode(nil, b64)
	if err != nil || len(ct) < k.aead.NonceSize() {
		return nil, errors.New("secretbox: malformed sealed value")
	}
	n := k.aead.NonceSize()
	plain, err := k.aead.Open(nil, ct[:n], ct[n:], []byte(context))
	if err != nil {
		return nil, fmt.Errorf("secretbox: a secret sealed with key %s does not open: %w", id, err)
	}
	return plain, nil
}

// IsSealed reports whether stored is a sealed value rather than plain text.
func IsSealed(stored []byte) bool { return bytes.HasPrefix(stored, []byte(prefix)) }

// SealedWith returns the id of the key that sealed stored, or "" for plain
// text.
func SealedWith(stored []byte) string {
	if !IsSealed(stored) {
		return ""
	}
	id, _, _ := bytes.Cut(stored[len(prefix):], []byte(":"))
	return string(id)
}

// find returns the key with id, re-reading the file once if it lacks it.
func (r *Keyring) find(id string) *key {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refreshLocked()
	for _, k := range r.keys {
		if k.id == id {
			return k
		}
	}
	return nil
}

// refreshLocked re-reads the file if it changed since it was read. A file
// that cannot be read now keeps the keys already loaded.
func (r *Keyring) refreshLocked() {
	fi, err := os.Stat(r.path)
	if err != nil || (fi.ModTime().Equal(r.mtime) && fi.Size() == r.size) {
		return
	}
	_ = r.reloadLocked()
}

func (r *Keyring) reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reloadLocked()
}

func (r *Keyring) reloadLocked() error {
	fi, err := os.Stat(r.path)
	if err != nil {
		return fmt.Errorf("secrets key: %w", err)
	}
	b, err := os.ReadFile(r.path)
	if err != nil {
		return fmt.Errorf("secrets key: %w", err)
	}
	keys, err := parse(b)
	if err != nil {
		return fmt.Errorf("secrets key %s: %w", r.path, err)
	}
	r.keys, r.mtime, r.size = keys, fi.ModTime(), fi.Size()
	return nil
}

// Rotate puts a new key first in the file, keeping the others so that
// values sealed with them still open, and returns its id.
func (r *Keyring) Rotate() (string, error) {
	k, err := newKey()
	if err != nil {
		return "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.reloadLocked(); err != nil {
		return "", err
	}
	if err := replace(r.path, format(append([]*key{k}, r.keys...))); err != nil {
		return "", fmt.Errorf("rotate secrets key: %w", err)
	}
	return k.id, r.reloadLocked()
}

// DropOld removes every key but the sealing one from the file: call it
// once no stored value is sealed with them.
func (r *Keyring) DropOld() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.reloadLocked(); err != nil {
		return err
	}
	if err := replace(r.path, format(r.keys[:1])); err != nil {
		return fmt.Errorf("drop old secrets keys: %w", err)
	}
	return r.reloadLocked()
}

func newKey() (*key, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	return makeKey(raw)
}

func makeKey(raw []byte) (*key, error) {
	if len(raw) != 32 {
		return nil, fmt.Errorf("a key is %d bytes, want 32", len(raw))
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(raw)
	return &key{id: hex.EncodeToString(sum[:8]), aead: aead, raw: raw}, nil
}

// The file holds one key a line, as "trail-secrets-key " + base64 of 32
// bytes; the first line seals. Lines starting with # are comments.
const linePrefix = "trail-secrets-key "

func format(keys []*key) []byte {
	var b bytes.Buffer
	b.WriteString("# Trail secrets keys: the first seals, every one opens. Keep this file private; see docs/operations.md.\n")
	for _, k := range keys {
		b.WriteString(linePrefix + base64.StdEncoding.EncodeToString(k.raw) + "\n")
	}
	return b.Bytes()
}

func parse(b []byte) ([]*key, error) {
	var keys []*key
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		b64, ok := strings.CutPrefix(line, linePrefix)
		if !ok {
			return nil, fmt.Errorf("line %d: not a trail secrets key", n)
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		k, err := makeKey(raw)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("no key in the file")
	}
	return keys, nil
}

// writeNew writes data to a new file at path (0600, its folder 0700),
// failing with os.ErrExist if path exists. The file appears whole or not
// at all.
func writeNew(path string, data []byte) error {
	tmp, err := writeTemp(path, data)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	return os.Link(tmp, path)
}

// replace writes data over the file at path, whole or not at all.
func replace(path string, data []byte) error {
	tmp, err := writeTemp(path, data)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	return os.Rename(tmp, path)
}

func writeTemp(path string, data []byte) (string, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".secrets-key-*")
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// Seal seals plain with r, or returns it as it is when r is nil (a store
// opened without a key, as in tests of other features).
func Seal(r *Keyring, plain []byte, context string) ([]byte, error) {
	if r == nil {
		return plain, nil
	}
	return r.Seal(plain, context)
}

// Open opens stored with r; plain text is returned as it is, and a sealed
// value without r is an error.
func Open(r *Keyring, stored []byte, context string) ([]byte, error) {
	if r == nil {
		if IsSealed(stored) {
			return nil, errors.New("secretbox: a secret is sealed and the store has no secrets key (--secrets-key)")
		}
		return stored, nil
	}
	return r.Open(stored, context)
}

// NeedsReseal reports whether stored should be sealed again: it is plain
// text, or sealed with a key other than r's current one.
func NeedsReseal(r *Keyring, stored []byte) bool {
	return r != nil && SealedWith(stored) != r.CurrentID()
}
