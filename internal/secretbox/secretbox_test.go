package secretbox_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/trailhq/trail/internal/secretbox"
	"github.com/trailhq/trail/internal/tmpfs"
)

func mustKeyring(t *testing.T) *secretbox.Keyring {
	t.Helper()
	k, err := secretbox.LoadOrCreate(filepath.Join(t.TempDir(), "data", secretbox.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpen(t *testing.T) {
	k := mustKeyring(t)
	plain := []byte(`{"token":"hec-token-123"}`)
	sealed, err := k.Seal(plain, "forwarder:f1")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("hec-token")) || !secretbox.IsSealed(sealed) {
		t.Fatalf("sealed value %q shows the secret or lacks the prefix", sealed)
	}
	if got := secretbox.SealedWith(sealed); got != k.CurrentID() {
		t.Errorf("SealedWith = %q, want the current key %q", got, k.CurrentID())
	}
	t.Run("OK", func(t *testing.T) {
		got, err := k.Open(sealed, "forwarder:f1")
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("Open = %q, %v; want %q", got, err, plain)
		}
	})
	t.Run("ErrOtherRow", func(t *testing.T) {
		if _, err := k.Open(sealed, "forwarder:f2"); err == nil {
			t.Error("a value sealed for one row opened for another")
		}
	})
	t.Run("ErrTampered", func(t *testing.T) {
		bad := bytes.Clone(sealed)
		bad[len(bad)-3] ^= 1
		if _, err := k.Open(bad, "forwarder:f1"); err == nil {
			t.Error("a tampered value opened")
		}
	})
	t.Run("PlainPassesThrough", func(t *testing.T) {
		got, err := k.Open(plain, "forwarder:f1")
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("Open(plain) = %q, %v", got, err)
		}
	})
	t.Run("ErrSealedWithoutKey", func(t *testing.T) {
		if _, err := secretbox.Open(nil, sealed, "forwarder:f1"); err == nil {
			t.Error("a sealed value opened without a key")
		}
	})
}

func TestKeyFileMode(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	k := mustKeyring(t)
	for path, want := range map[string]os.FileMode{k.Path(): 0o600, filepath.Dir(k.Path()): 0o700} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %#o, want %#o", path, got, want)
		}
	}
	if _, err := k.Rotate(); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(k.Path()); fi.Mode().Perm() != 0o600 {
		t.Errorf("after Rotate: mode %#o, want 0600", fi.Mode().Perm())
	}
}

// TestRotate: after Rotate the new key seals and the old still opens, and
// another Keyring on the same file (a running server) follows the file.
func TestRotate(t *testing.T) {
	k := mustKeyring(t)
	server, err := secretbox.Load(k.Path())
	if err != nil {
		t.Fatal(err)
	}
	oldID := k.CurrentID()
	old, _ := k.Seal([]byte("s1"), "c")
	newID, err := k.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	if newID == oldID || k.CurrentID() != newID {
		t.Fatalf("Rotate gave %s (current %s), old %s", newID, k.CurrentID(), oldID)
	}
	if ids := k.IDs(); len(ids) != 2 || ids[0] != newID || ids[1] != oldID {
		t.Errorf("IDs = %v, want [%s %s]", ids, newID, oldID)
	}
	sealed, _ := k.Seal([]byte("s2"), "c")
	for _, v := range [][]byte{old, sealed} {
		if _, err := server.Open(v, "c"); err != nil {
			t.Errorf("the server's keyring cannot open %.20s: %v", v, err)
		}
	}
	if got := server.CurrentID(); got != newID {
		t.Errorf("the server seals with %s, want the new key %s", got, newID)
	}
	if err := k.DropOld(); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Open(old, "c"); err == nil || !strings.Contains(err.Error(), oldID) {
		t.Errorf("after DropOld, the old key's value: %v; want an error naming key %s", err, oldID)
	}
	if _, err := k.Open(sealed, "c"); err != nil {
		t.Error(err)
	}
}

// TestLoadOrCreateReadOnly loads a key file that exists in a read-only
// folder (a Kubernetes or Compose secret mount) instead of failing to
// create a temporary file beside it.
func TestLoadOrCreateReadOnly(t *testing.T) {
	dir := tmpfs.Mount(t, 1<<20)
	path := filepath.Join(dir, "secrets.key")
	if _, err := secretbox.LoadOrCreate(path); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("", dir, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Fatalf("remount read-only: %v", err)
	}
	k, err := secretbox.LoadOrCreate(path)
	if err != nil {
		t.Fatalf("LoadOrCreate of an existing key on a read-only mount: %v", err)
	}
	if len(k.IDs()) != 1 {
		t.Errorf("keys %v, want one", k.IDs())
	}
}
