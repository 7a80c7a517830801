// Package docker_test builds Trail's container image and runs it with
// Docker: serve, ingest, stop, start again on the same volume, and check
// that the events are still there and that trail verify passes.
//
// It needs Docker. When no daemon answers, it starts its own dockerd
// (root only) with no bridge and no iptables rules, and every container
// uses the host's network: nothing but loopback is needed, and nothing is
// pulled (the image is FROM scratch). In CI (CI=true or
// TRAIL_REQUIRE_ALL=1) a missing Docker fails the test; elsewhere it skips.
package docker_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/client"
	"github.com/trailhq/trail/internal/testenv"
)

func TestImage(t *testing.T) {
	d := newDocker(t)
	tag := buildImage(t, d)
	checkImageConfig(t, d, tag)

	vol := "trail-test-" + randomName()
	d.must(t, "volume", "create", vol)
	t.Cleanup(func() { d.run(t, "volume", "rm", "-f", vol) })
	addr := freeAddr(t)

	first := d.serve(t, tag, vol, addr)
	d.must(t, "exec", first, "trail", "healthcheck") // as docs/deploy.md does
	out := d.must(t, "exec", first, "trail", "keys", "create", "--tenant", "acme",
		"--scopes", "events:write,events:read", "--output", "json")
	var key struct{ Secret string }
	if err := json.Unmarshal([]byte(out), &key); err != nil || key.Secret == "" {
		t.Fatalf("keys create in the container printed %q", out)
	}
	c := client.New("http://"+addr, key.Secret)
	ids := publish(t, c, 50)

	// docker stop sends SIGTERM: a graceful shutdown exits 0.
	d.must(t, "stop", "-t", "30", first)
	if code := strings.TrimSpace(d.must(t, "inspect", "-f", "{{.State.ExitCode}}", first)); code != "0" {
		t.Errorf("trail serve exited %s after docker stop:\n%s", code, d.run(t, "logs", first))
	}
	d.must(t, "rm", first)

	second := d.serve(t, tag, vol, addr)
	stored := map[string]bool{}
	for e, err := range c.All(context.Background(), client.Query{Limit: 1000}) {
		if err != nil {
			t.Fatal(err)
		}
		stored[e.ID] = true
	}
	for _, id := range ids {
		if !stored[id] {
			t.Fatalf("event %s is gone after the restart on the same volume", id)
		}
	}
	testenv.Eventually(t, 60*time.Second, "trail verify to pass in the container", func() bool {
		out, err := d.cmd("exec", second, "/usr/local/bin/trail", "verify").CombinedOutput()
		return err == nil && strings.Contains(string(out), "ok:")
	})
}

// buildImage builds the image with scripts/image.sh, once for the
// package; TestMain removes it.
func buildImage(t *testing.T, d *docker) string {
	shared.imageOnce.Do(func() {
		tag := "trail-test:" + randomName()
		start := time.Now()
		build := exec.Command("../../scripts/image.sh", tag)
		build.Env = append(d.env(), "TRAIL_STATIC_FAST=1")
		if out, err := build.CombinedOutput(); err != nil {
			shared.imageErr = fmt.Errorf("scripts/image.sh: %v\n%s", err, out)
			return
		}
		t.Logf("image %s built in %s", tag, time.Since(start).Round(time.Second))
		shared.tag = tag
		shared.cleanups = append(shared.cleanups, func() { d.cmd("rmi", "-f", tag).Run() })
	})
	if shared.imageErr != nil {
		t.Fatal(shared.imageErr)
	}
	return shared.tag
}

// checkImageConfig checks the user, volume and health check of the image.
func checkImageConfig(t *testing.T, d *docker, tag string) {
	out := d.must(t, "image", "inspect", "-f", "{{json .Config}}", tag)
	var cfg struct {
		User        string
		Volumes     map[string]any
		Healthcheck struct{ Test []string }
	}
	if err := json.Unmarshal([]byte(out), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.User != "65532:65532" {
		t.Errorf("image user %q, want the numeric non-root 65532:65532", cfg.User)
	}
	if _, ok := cfg.Volumes["/data"]; !ok {
		t.Errorf("image volumes %v, want /data", cfg.Volumes)
	}
	if !strings.Contains(strings.Join(cfg.Healthcheck.Test, " "), "trail healthcheck") {
		t.Errorf("image health check %v, want trail healthcheck", cfg.Healthcheck.Test)
	}
}

// publish sends n events in one batch and returns their ids.
func publish(t *testing.T, c *client.Client, n int) []string {
	events := make([]client.Event, n)
	for i := range events {
		events[i] = client.Event{Action: "document.shared", OccurredAt: time.Now(),
			Actor:   trail.Actor{Type: "user", ID: "u_1"},
			Targets: []trail.Target{{Type: "document", ID: fmt.Sprint("d_", i)}}}
	}
	ids, err := c.Publish(context.Background(), events...)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// docker runs the docker CLI against one daemon.
type docker struct {
	host string // DOCKER_HOST, or "" for the default
}

func (d *docker) env() []string {
	env := os.Environ()
	if d.host != "" {
		env = append(env, "DOCKER_HOST="+d.host)
	}
	return env
}

func (d *docker) cmd(args ...string) *exec.Cmd {
	cmd := exec.Command("docker", args...)
	cmd.Env = d.env()
	return cmd
}

// run runs a docker command and returns its combined output, whatever
// the exit status (for cleanups and logs).
func (d *docker) run(t *testing.T, args ...string) string {
	out, _ := d.cmd(args...).CombinedOutput()
	return string(out)
}

// must runs a docker command that must succeed and returns its stdout.
func (d *docker) must(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := d.cmd(args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("docker %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// serve starts a container of the image on volume vol, listening on addr
// of the host's network, and waits until it is ready.
func (d *docker) serve(t *testing.T, tag, vol, addr string) string {
	t.Helper()
	return d.startContainer(t, []string{"run", "-d", "--name", "trail-test-" + randomName(), "--network", "host",
		"-v", vol + ":/data", "-e", "TRAIL_ADDR=" + addr, tag}, addr)
}

// startContainer runs `docker run -d --name NAME ...` (args) and waits until
// the server at addr is ready; it removes the container when the test ends.
func (d *docker) startContainer(t *testing.T, args []string, addr string) string {
	t.Helper()
	name := args[3]
	t.Cleanup(func() { d.run(t, "rm", "-f", name) })
	d.must(t, args...)
	if !testenv.Poll(60*time.Second, func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}) {
		t.Fatalf("the container did not get ready within 60s:\n%s", d.run(t, "logs", name))
	}
	return name
}

// shared is the package's one Docker daemon and one image, set up by the
// first test that needs them and torn down by TestMain.
var shared struct {
	dockerOnce, imageOnce sync.Once
	d                     *docker
	why                   string // why Docker is unavailable
	tag                   string
	imageErr              error
	cleanups              []func()
}

// cleanupShared undoes the shared setup, last first.
func cleanupShared() {
	for i := len(shared.cleanups) - 1; i >= 0; i-- {
		shared.cleanups[i]()
	}
}

// newDocker returns a docker whose daemon answers: the default one, or a
// dockerd that it starts once for the package and stops at its end.
func newDocker(t *testing.T) *docker {
	shared.dockerOnce.Do(func() { shared.d, shared.why = startDocker() })
	if shared.why != "" {
		testenv.Require(t, "the container image test needs Docker", "", errors.New(shared.why))
	}
	return shared.d
}

// startDocker finds or starts a daemon; a non-empty string says why there
// is none.
func startDocker() (*docker, string) {
	if _, err := exec.LookPath("docker"); err != nil {
		return nil, "the docker CLI is not installed (apt-get install docker.io)"
	}
	d := &docker{}
	if d.cmd("version").Run() == nil {
		return d, ""
	}
	dockerd, err := exec.LookPath("dockerd")
	if err != nil {
		return nil, "no Docker daemon answers and dockerd is not installed (apt-get install docker.io)"
	}
	if os.Geteuid() != 0 {
		return nil, "no Docker daemon answers, and only root can start dockerd"
	}
	dir, err := os.MkdirTemp("", "trail-dockerd-")
	if err != nil {
		return nil, err.Error()
	}
	d.host = "unix://" + filepath.Join(dir, "docker.sock")
	var logs bytes.Buffer
	cmd := exec.Command(dockerd, "--bridge=none", "--iptables=false", "--ip6tables=false",
		"--data-root", filepath.Join(dir, "root"), "--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "docker.pid"), "--host", d.host)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, "start dockerd: " + err.Error()
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	shared.cleanups = append(shared.cleanups, func() {
		cmd.Process.Signal(syscall.SIGTERM)
		<-exited
		unmountUnder(dir)
		os.RemoveAll(dir)
	})
	died := false
	answered := testenv.Poll(30*time.Second, func() bool {
		if d.cmd("version").Run() == nil {
			return true
		}
		select {
		case <-exited:
			died = true
		default:
		}
		return died
	})
	switch {
	case died:
		return nil, "dockerd exited:\n" + logs.String()
	case !answered:
		return nil, "dockerd did not answer within 30s:\n" + logs.String()
	}
	return d, ""
}

// unmountUnder detaches what dockerd left mounted below dir (its network
// namespace), deepest first, so that the folder can be removed.
func unmountUnder(dir string) {
	b, _ := os.ReadFile("/proc/self/mountinfo")
	var points []string
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			points = append(points, f[4])
		}
	}
	for i := len(points) - 1; i >= 0; i-- {
		syscall.Unmount(points[i], syscall.MNT_DETACH)
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func randomName() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}
