// Package release_test runs `make release`'s script for linux/amd64 into a
// temporary folder and checks what it ships: a static binary that prints
// its version and commit, LICENSE and README, a CycloneDX SBOM that lists
// the compiled modules, and SHA256SUMS that match. (The arm64 build uses
// the same script with Debian's cross compiler; it is not run here, to keep
// CI short. For the same reason the build keeps a plain go build's flags
// (TRAIL_STATIC_FAST, as the container test does), so the compiled SQLite
// driver comes from the build cache: -trimpath and the tag that drops
// SQLite's extension loading are the only differences from a release.)
package release_test

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a release")
	}
	dist := t.TempDir()
	cmd := exec.Command("bash", "../../scripts/release.sh")
	cmd.Env = append(os.Environ(), "ARCHES=amd64", "DIST="+dist, "TRAIL_STATIC_FAST=1", "VERSION=9.8.7-test", "COMMIT=0123456789abcdef")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("release.sh: %v\n%s", err, out)
	}
	name := "trail-9.8.7-test-linux-amd64"
	files := untar(t, filepath.Join(dist, name+".tar.gz"), t.TempDir())
	for _, want := range []string{"trail", "LICENSE", "README.md"} {
		if _, ok := files[name+"/"+want]; !ok {
			t.Errorf("the archive lacks %s: %v", want, files)
		}
	}
	bin := files[name+"/trail"]
	t.Run("Static", func(t *testing.T) {
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Error("the binary names a dynamic loader: not static")
			}
		}
	})
	t.Run("Version", func(t *testing.T) {
		out, err := exec.Command(bin, "version").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "9.8.7-test") || !strings.Contains(string(out), "0123456789abcdef") {
			t.Errorf("trail version: %v %q, want the version and the commit", err, out)
		}
	})
	t.Run("SBOM", func(t *testing.T) {
		var bom struct {
			BOMFormat  string `json:"bomFormat"`
			Components []struct {
				Name string `json:"name"`
			} `json:"components"`
		}
		b, err := os.ReadFile(filepath.Join(dist, name+".cdx.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &bom); err != nil || bom.BOMFormat != "CycloneDX" {
			t.Fatalf("SBOM: %v, format %q", err, bom.BOMFormat)
		}
		found := false
		for _, c := range bom.Components {
			found = found || c.Name == "github.com/mattn/go-sqlite3"
		}
		if !found {
			t.Errorf("the SBOM does not list github.com/mattn/go-sqlite3 among %d components", len(bom.Components))
		}
	})
	t.Run("Checksums", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) != 2 {
			t.Fatalf("SHA256SUMS has %d lines, want the archive and the SBOM:\n%s", len(lines), b)
		}
		for _, l := range lines {
			sum, file, _ := strings.Cut(l, "  ")
			data, err := os.ReadFile(filepath.Join(dist, file))
			if err != nil {
				t.Fatal(err)
			}
			if got := sha256.Sum256(data); hex.EncodeToString(got[:]) != sum {
				t.Errorf("SHA256SUMS: %s does not match", file)
			}
		}
	})
}

// untar unpacks archive into dir and returns its regular files by name.
func untar(t *testing.T, archive, dir string) map[string]string {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg || strings.Contains(h.Name, "..") {
			continue
		}
		path := filepath.Join(dir, filepath.FromSlash(h.Name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		out, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, os.FileMode(h.Mode)&0o755)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, tr); err != nil {
			t.Fatal(err)
		}
		out.Close()
		files[h.Name] = path
	}
}
