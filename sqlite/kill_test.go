package sqlite_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/sqlite"
)

// TestKillKeepsAcknowledged kills a process that is appending, with
// SIGKILL, and checks that every event it acknowledged is in the file.
func TestKillKeepsAcknowledged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trail.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestAppendForever$")
	cmd.Env = append(os.Environ(), "TRAIL_TEST_APPEND_DB="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []string
	sc := bufio.NewScanner(out)
	for len(acked) < 200 && sc.Scan() {
		if id, ok := strings.CutPrefix(sc.Text(), "acked "); ok {
			acked = append(acked, id)
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	if len(acked) < 200 {
		t.Fatalf("child acknowledged only %d events before it stopped", len(acked))
	}
	db := mustOpen(t, path)
	for _, id := range acked {
		if _, err := db.Event(t.Context(), trail.Scope{All: true}, id); err != nil {
			t.Fatalf("acknowledged event %s lost after kill -9: %v", id, err)
		}
	}
}

// TestAppendForever is the child of TestKillKeepsAcknowledged: it appends
// batches and prints the id of each event once AppendBatches returned.
func TestAppendForever(t *testing.T) {
	path := os.Getenv("TRAIL_TEST_APPEND_DB")
	if path == "" {
		return // only runs as the child process
	}
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		b := &trail.Batch{Events: []*trail.Event{newEvent("a", i), newEvent("b", i)}}
		if err := db.AppendBatches(t.Context(), []*trail.Batch{b}); err != nil {
			t.Fatal(err)
		}
		for _, e := range b.Events {
			fmt.Printf("acked %s\n", e.ID)
		}
	}
}
