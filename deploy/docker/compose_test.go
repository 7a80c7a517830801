package docker_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailhq/trail/client"
	"github.com/trailhq/trail/internal/pgtest"
	"gopkg.in/yaml.v3"
)

// composeFile is the part of deploy/compose/compose.yaml the test reads.
type composeFile struct {
	Services map[string]struct {
		Image       string
		Command     []string
		Environment map[string]string
		Ports       []string
		ReadOnly    bool `yaml:"read_only"`
		Tmpfs       []string
		Secrets     []string
		DependsOn   map[string]struct{ Condition string } `yaml:"depends_on"`
	}
	Secrets map[string]struct{ File string }
}

func readCompose(t *testing.T) *composeFile {
	b, err := os.ReadFile("../compose/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

// TestComposeFile checks that the compose file runs two Trail nodes that
// share one database, one ledger key and one secrets key, after PostgreSQL
// is healthy.
func TestComposeFile(t *testing.T) {
	c := readCompose(t)
	a, b := c.Services["trail-1"], c.Services["trail-2"]
	if a.Image == "" || a.Image != b.Image || !strings.Contains(a.Image, "TRAIL_IMAGE") {
		t.Errorf("images %q and %q, want the same ${TRAIL_IMAGE}", a.Image, b.Image)
	}
	for _, k := range []string{"TRAIL_STORE", "TRAIL_LEDGER_KEY", "TRAIL_SECRETS_KEY"} {
		if a.Environment[k] == "" || a.Environment[k] != b.Environment[k] {
			t.Errorf("%s: %q and %q, want one shared value", k, a.Environment[k], b.Environment[k])
		}
	}
	if len(a.Ports) != 1 || len(b.Ports) != 1 || a.Ports[0] == b.Ports[0] {
		t.Errorf("ports %v and %v", a.Ports, b.Ports)
	}
	for _, name := range []string{"trail-1", "trail-2"} {
		svc := c.Services[name]
		if svc.DependsOn["postgres"].Condition != "service_healthy" || !svc.ReadOnly || len(svc.Secrets) != 2 {
			t.Errorf("%s: depends_on %v, read_only %v, secrets %v", name, svc.DependsOn, svc.ReadOnly, svc.Secrets)
		}
	}
	// Checkpoints spaced out: at PostgreSQL's default max_wal_size one
	// lands right after a burst of audit events (docs/operations.md).
	if cmd := strings.Join(c.Services["postgres"].Command, " "); !strings.Contains(cmd, "max_wal_size=8GB") ||
		!strings.Contains(cmd, "checkpoint_timeout=15min") {
		t.Errorf("postgres command %q, want max_wal_size=8GB and checkpoint_timeout=15min", cmd)
	}
	for _, name := range []string{"ledger_key", "secrets_key"} {
		if c.Secrets[name].File == "" {
			t.Errorf("no %s secret file", name)
		}
	}
}

// TestComposeNodes runs the compose file's two Trail services as
// containers of the image, with their environment, on one PostgreSQL
// database (the test's own server instead of the postgres service, which
// would have to be pulled): an event written through node 1 is read
// through node 2, and both sign with the shared key.
func TestComposeNodes(t *testing.T) {
	d := newDocker(t)
	dsn := pgtest.NewDB(t)
	tag := buildImage(t, d)
	c := readCompose(t)
	keyDir := t.TempDir()
	os.Chmod(keyDir, 0o755)
	bin := trailBinary(t)
	mustRun(t, bin, "ledger", "pubkey", "--ledger-key", keyDir+"/ledger.key", "--ledger-origin", "audit.example.com")
	mustRun(t, bin, "secrets", "init", "--secrets-key", keyDir+"/secrets.key")
	os.Chown(keyDir+"/ledger.key", 65532, 65532)
	os.Chown(keyDir+"/secrets.key", 65532, 65532)
	sock := socketDir(t, dsn)
	// The image's user (65532) must reach the test server's socket.
	os.Chmod(filepath.Dir(sock), 0o711)
	os.Chmod(sock, 0o711)
	var urls []string
	for _, name := range []string{"trail-1", "trail-2"} {
		svc := c.Services[name]
		addr := freeAddr(t)
		args := []string{"run", "-d", "--name", "trail-test-" + randomName(), "--network", "host",
			"-v", keyDir + "/ledger.key:" + svc.Environment["TRAIL_LEDGER_KEY"] + ":ro",
			"-v", keyDir + "/secrets.key:" + svc.Environment["TRAIL_SECRETS_KEY"] + ":ro", "-v", sock + ":" + sock,
			"-e", "TRAIL_ADDR=" + addr, "-e", "TRAIL_STORE=" + dsn}
		if svc.ReadOnly {
			args = append(args, "--read-only")
		}
		for _, p := range svc.Tmpfs {
			args = append(args, "--tmpfs", p)
		}
		for k, v := range svc.Environment {
			if k != "TRAIL_STORE" {
				args = append(args, "-e", k+"="+v)
			}
		}
		d.startContainer(t, append(args, tag), addr)
		urls = append(urls, "http://"+addr)
	}
	out := mustRun(t, bin, "keys", "create", "--store", dsn, "--tenant", "acme", "--scopes", "events:write,events:read", "--output", "json")
	key := jsonField(t, out, "secret")
	ids := publish(t, client.New(urls[0], key), 5)
	page, err := client.New(urls[1], key).List(context.Background(), client.Query{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range page.Events {
		seen[e.ID] = true
	}
	for _, id := range ids {
		if !seen[id] {
			t.Fatalf("event %s written through node 1 is not read through node 2", id)
		}
	}
}
