package ledger

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/mod/sumdb/note"
)

// KeyFile is the name of the signing key file in the data folder.
const KeyFile = "ledger.key"

// Key is the Ed25519 key that signs checkpoints, with the note verifier
// that anyone can use to check them.
type Key struct {
	signer   note.Signer
	verifier note.Verifier
	vkey     string
	seed     []byte
	pub      ed25519.PublicKey

	mu      sync.Mutex
	signers map[string]note.Signer // by name: the same key named after each log
}

// ParseKey reads a note signer key ("PRIVATE+KEY+name+hash+key"), as
// note.GenerateKey makes it.
func ParseKey(skey string) (*Key, error) {
	skey = strings.TrimSpace(skey)
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("ledger key: %w", err)
	}
	// The public key is derived from the private key's seed, so that the
	// key file is the one thing to keep.
	// The key is what follows the fourth '+'; base64 may hold '+' too.
	parts := strings.SplitN(skey, "+", 5)
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != 1 {
		return nil, errors.New("ledger key: not an Ed25519 note key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(s.Name(), pub)
	if err != nil {
		return nil, fmt.Errorf("ledger key: %w", err)
	}
	v, err := ParseVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("ledger key: %w", err)
	}
	return &Key{signer: s, verifier: v, vkey: vkey, seed: raw[1:], pub: pub, signers: map[string]note.Signer{}}, nil
}

// GenerateKey returns a new signer key named name (the deployment origin,
// e.g. "trail.example.com").
func GenerateKey(name string) (string, error) {
	skey, _, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", fmt.Errorf("generate ledger key %q: %w", name, err)
	}
	return skey, nil
}

// LoadKey reads the key file at path.
func LoadKey(path string) (*Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read ledger key: %w", err)
	}
	k, err := ParseKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// LoadOrCreateKey reads the key file at path, creating it with a new key
// named name when it does not exist. Creation is atomic: two processes
// starting at once end up with the same key.
func LoadOrCreateKey(path, name string) (*Key, error) {
	if k, err := LoadKey(path); err == nil || !errors.Is(err, os.ErrNotExist) {
		return k, err
	}
	skey, err := GenerateKey(name)
	if err != nil {
		return nil, err
	}
	if err := writeNew(path, []byte(skey+"\n")); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("create ledger key: %w", err)
	}
	return LoadKey(path)
}

// writeNew writes data to a new file at path, readable by its owner only,
// failing with os.ErrExist if path exists. The file appears complete or
// not at all.
func writeNew(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".ledger-key-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Link(f.Name(), path)
}

// Signer returns the note signer of k.
func (k *Key) Signer() note.Signer { return k.signer }

// Verifier returns the note verifier of k.
func (k *Key) Verifier() note.Verifier { return k.verifier }

// VerifierKey returns the public note verifier key, e.g.
// "trail.example.com+1a2b3c4d+AQ...": what `trail ledger pubkey` prints
// and what customers give to `trail verify --pubkey`.
func (k *Key) VerifierKey() string { return k.vkey }

// LogVerifierKey returns the note verifier key of the same Ed25519 key
// under the name origin, a log's origin ("trail.example.com/acme"): the
// key a witness or any tlog-checkpoint client pins for that log, since
// C2SP tlog-checkpoint asks for a key named after the origin line.
func (k *Key) LogVerifierKey(origin string) (string, error) {
	vkey, err := note.NewEd25519VerifierKey(origin, k.pub)
	if err != nil {
		return "", fmt.Errorf("ledger key for %q: %w", origin, err)
	}
	return vkey, nil
}

// logSigner returns a signer of the key named origin.
func (k *Key) logSigner(origin string) (note.Signer, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if s, ok := k.signers[origin]; ok {
		return s, nil
	}
	vkey, err := k.LogVerifierKey(origin)
	if err != nil {
		return nil, err
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("ledger key for %q: %w", origin, err)
	}
	skey := fmt.Sprintf("PRIVATE+KEY+%s+%08x+%s", origin, v.KeyHash(),
		base64.StdEncoding.EncodeToString(append([]byte{1}, k.seed...)))
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("ledger key for %q: %w", origin, err)
	}
	k.signers[origin] = s
	return s, nil
}

// SignCheckpoint returns c as a note signed twice by k: under the name of
// c's origin, as C2SP tlog-checkpoint asks and witnesses expect, and under
// the deployment's name (k's own), which checkpoints carried alone before,
// so that verifier keys pinned then keep verifying every checkpoint.
func (k *Key) SignCheckpoint(c Checkpoint) ([]byte, error) {
	if c.Origin == k.signer.Name() {
		return SignCheckpoint(c, k.signer)
	}
	s, err := k.logSigner(c.Origin)
	if err != nil {
		return nil, err
	}
	return SignCheckpoint(c, s, k.signer)
}

// ParseVerifier parses a note verifier key: the deployment's (as `trail
// ledger pubkey` prints it) or a log's (--log). OpenCheckpoint accepts a
// checkpoint signed by the deployment's key under its own name or under
// the checkpoint's origin, so a checkpoint that a witness cosigned (which
// keeps only the signature named after the origin) verifies with a key
// pinned before checkpoints were signed under their origins.
func ParseVerifier(vkey string) (note.Verifier, error) {
	vkey = strings.TrimSpace(vkey)
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("ledger public key: %w", err)
	}
	pk := &pinnedKey{Verifier: v}
	if parts := strings.SplitN(vkey, "+", 3); len(parts) == 3 {
		if raw, err := base64.StdEncoding.DecodeString(parts[2]); err == nil && len(raw) == 1+ed25519.PublicKeySize && raw[0] == 1 {
			pk.pub = ed25519.PublicKey(raw[1:])
		}
	}
	return pk, nil
}

// pinnedKey is a verifier key that also knows its Ed25519 public key, to
// verify the same key's signatures under a log's origin.
type pinnedKey struct {
	note.Verifier
	pub ed25519.PublicKey
}

// verifiersFor returns the verifiers that OpenCheckpoint tries on a
// checkpoint of origin: v, and v's key named origin.
func verifiersFor(v note.Verifier, origin string) note.Verifiers {
	pk, ok := v.(*pinnedKey)
	if !ok || pk.pub == nil || origin == v.Name() {
		return note.VerifierList(v)
	}
	vkey, err := note.NewEd25519VerifierKey(origin, pk.pub)
	if err != nil {
		return note.VerifierList(v)
	}
	named, err := note.NewVerifier(vkey)
	if err != nil {
		return note.VerifierList(v)
	}
	return note.VerifierList(v, named)
}
