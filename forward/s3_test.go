package forward_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/testenv"
)

// versitygwVersion is the S3-compatible server the S3 tests run against:
// Versity's gateway with its POSIX backend, built from the Go module proxy.
const versitygwVersion = "v1.8.0"

const (
	s3Access = "trail-test-access"
	s3Secret = "trail-test-secret-key"
	s3Bucket = "audit-archive"
)

// Versitygw is a versitygw child process serving S3 over a directory.
type Versitygw struct {
	Addr string
	cmd  *exec.Cmd
	log  syncBuffer
}

// versitygwPath finds the versitygw binary: $TRAIL_VERSITYGW, then PATH,
// then $(go env GOPATH)/bin. Without one the test is skipped, or fails
// under TRAIL_REQUIRE_ALL (testenv.Require).
func versitygwPath(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("TRAIL_VERSITYGW"); p != "" {
		return p
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	gopath, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		p := filepath.Join(strings.TrimSpace(string(gopath)), "bin", "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	testenv.Require(tb, "versitygw", "go install github.com/versity/versitygw/cmd/versitygw@"+
		versitygwVersion+", or set TRAIL_VERSITYGW",
		errors.New("not in $TRAIL_VERSITYGW, PATH or $(go env GOPATH)/bin"))
	return ""
}

// StartVersitygw serves S3 from dir on addr ("" for a free port).
func StartVersitygw(tb testing.TB, dir, addr string) *Versitygw {
	tb.Helper()
	bin := versitygwPath(tb)
	if addr == "" {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		addr = l.Addr().String()
		l.Close()
	}
	g := &Versitygw{Addr: addr}
	g.cmd = exec.Command(bin, "--access", s3Access, "--secret", s3Secret, "--port", addr, "--quiet", "posix", dir)
	g.cmd.Stdout, g.cmd.Stderr = &g.log, &g.log
	if err := g.cmd.Start(); err != nil {
		tb.Fatalf("start versitygw: %v", err)
	}
	tb.Cleanup(g.Stop)
	if !testenv.Poll(10*time.Second, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	}) {
		tb.Fatalf("versitygw did not start listening on %s: %s", addr, g.log.String())
	}
	return g
}

// Stop ends versitygw and waits for it.
func (g *Versitygw) Stop() {
	if g.cmd.ProcessState != nil {
		return
	}
	g.cmd.Process.Signal(syscall.SIGTERM)
	g.cmd.Wait()
}

func s3Client(tb testing.TB, addr string) *minio.Client {
	tb.Helper()
	c, err := minio.New(addr, &minio.Options{Creds: credentials.NewStaticV4(s3Access, s3Secret, ""),
		BucketLookup: minio.BucketLookupPath})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// keyPattern is tenant/YYYY/MM/DD/HH/<first id>-<last id>.jsonl.gz under
// the prefix.
var keyPattern = regexp.MustCompile(`^trail/([^/]+)/(\d{4}/\d{2}/\d{2}/\d{2})/([0-9a-f-]{36})-([0-9a-f-]{36})\.jsonl\.gz$`)

// TestS3 archives events to a real S3-compatible server as gzipped JSON
// Lines objects per tenant and window, keeps delivering across a restart
// of the server, and checks every object's key and content.
func TestS3(t *testing.T) {
	dir := t.TempDir()
	g := StartVersitygw(t, dir, "")
	if err := s3Client(t, g.Addr).MakeBucket(t.Context(), s3Bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("make bucket: %v", err)
	}
	s := MustOpenStore(t)
	MustCreate(t, s, &trail.Forwarder{Name: "archive", Kind: trail.ForwarderS3, URI: "http://" + g.Addr,
		Batch: trail.BatchConfig{Wait: trail.Duration(100 * time.Millisecond)},
		Retry: trail.RetryConfig{MaxAttempts: 1000, MinBackoff: trail.Duration(10 * time.Millisecond),
			MaxBackoff: trail.Duration(50 * time.Millisecond)},
		S3: &trail.S3Config{Bucket: s3Bucket, Prefix: "trail/", AccessKey: s3Access, SecretKey: s3Secret, PathStyle: true}})
	StartManager(t, s, "node-1")
	evs := MustAppend(t, s, "acme", "user.created", "user.updated")
	evs = append(evs, MustAppend(t, s, "globex", "doc.created")...)
	evs = append(evs, MustAppend(t, s, "", "key.created")...)
	testenv.Eventually(t, 15*time.Second, "the first events archived", func() bool { return status(t, s, "", "archive").Cursor == evs[3].Pos })

	g.Stop()
	evs = append(evs, MustAppend(t, s, "acme", "user.deleted")...)
	testenv.Eventually(t, 15*time.Second, "a failed upload while the server is down", func() bool {
		return status(t, s, "", "archive").Attempts > 0
	})
	g = StartVersitygw(t, dir, g.Addr)
	testenv.Eventually(t, 15*time.Second, "every event archived", func() bool { return status(t, s, "", "archive").Cursor == evs[4].Pos })

	got := readArchive(t, s3Client(t, g.Addr))
	var gotIDs []string
	for _, e := range got {
		gotIDs = append(gotIDs, e.ID)
	}
	slices.Sort(gotIDs)
	wantIDs := ids(evs)
	slices.Sort(wantIDs)
	if !slices.Equal(gotIDs, wantIDs) {
		t.Errorf("archived events %v, want each event once: %v", gotIDs, wantIDs)
	}
}

// readArchive reads every object under trail/, checking that each key
// names the object's tenant, hour and first and last event.
func readArchive(t *testing.T, c *minio.Client) []*trail.Event {
	t.Helper()
	var all []*trail.Event
	for obj := range c.ListObjects(t.Context(), s3Bucket, minio.ListObjectsOptions{Prefix: "trail/", Recursive: true}) {
		if obj.Err != nil {
			t.Fatalf("list objects: %v", obj.Err)
		}
		m := keyPattern.FindStringSubmatch(obj.Key)
		if m == nil {
			t.Errorf("key %s does not match tenant/YYYY/MM/DD/HH/<first>-<last>.jsonl.gz", obj.Key)
			continue
		}
		evs := readObject(t, c, obj.Key)
		first, last := evs[0], evs[len(evs)-1]
		tenant := first.Tenant
		if tenant == "" {
			tenant = "(system)"
		}
		want := fmt.Sprintf("trail/%s/%s/%s-%s.jsonl.gz", tenant, first.ReceivedAt.UTC().Format("2006/01/02/15"), first.ID, last.ID)
		if obj.Key != want {
			t.Errorf("key %s, want %s", obj.Key, want)
		}
		for _, e := range evs {
			if e.Tenant != first.Tenant {
				t.Errorf("object %s mixes tenants %q and %q", obj.Key, first.Tenant, e.Tenant)
			}
		}
		all = append(all, evs...)
	}
	return all
}

func readObject(t *testing.T, c *minio.Client, key string) []*trail.Event {
	t.Helper()
	obj, err := c.GetObject(context.Background(), s3Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	zr, err := gzip.NewReader(obj)
	if err != nil {
		t.Fatalf("object %s is not gzip: %v", key, err)
	}
	var evs []*trail.Event
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e trail.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("object %s: line %d is not an event: %v", key, len(evs)+1, err)
		}
		evs = append(evs, &e)
	}
	if err := sc.Err(); err != nil || len(evs) == 0 {
		t.Fatalf("object %s: %d events, read error %v", key, len(evs), err)
	}
	return evs
}
