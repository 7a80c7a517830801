// Package tmpfs mounts small tmpfs file systems for tests that need a disk
// to fill up (storage fault tests).
//
// Mounting needs root, as the tests run in CI. Where the mount fails, the
// test fails with the reason when TRAIL_REQUIRE_ALL or CI=true is set, and
// is skipped with the reason otherwise (testenv.Require).
package tmpfs

import (
	"errors"
	"os"
	"strconv"
	"syscall"
	"testing"

	"github.com/trailhq/trail/internal/testenv"
)

// Mount mounts a tmpfs of size bytes on a new temporary folder and returns
// the folder; it is unmounted when tb ends.
func Mount(tb testing.TB, size int64) string {
	tb.Helper()
	dir, err := os.MkdirTemp("", "trail-tmpfs-")
	if err != nil {
		tb.Fatal(err)
	}
	opts := "size=" + itoa(size) + ",mode=0700"
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, opts); err != nil {
		os.Remove(dir)
		testenv.Require(tb, "a "+itoa(size)+"-byte tmpfs mount", "mounting needs root", err)
	}
	tb.Cleanup(func() {
		// A lazy unmount, in case a server still has files open.
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			tb.Errorf("tmpfs: unmount %s: %v", dir, err)
		}
		os.Remove(dir)
	})
	return dir
}

// Fill writes zeros to a new file at path until the file system is full,
// and returns how many bytes it wrote. Remove the file to free the space.
func Fill(tb testing.TB, path string) int64 {
	tb.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	var n int64
	for {
		m, err := f.Write(buf)
		n += int64(m)
		if errors.Is(err, syscall.ENOSPC) {
			return n
		}
		if err != nil {
			tb.Fatalf("tmpfs: fill %s: %v", path, err)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
