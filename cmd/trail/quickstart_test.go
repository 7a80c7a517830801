package main_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trailhq/trail/internal/testenv"
)

// TestQuickStart walks the README's quick start with the real binary, step
// by step. Keep it in step with README.md. The only difference: the server
// listens on a free port instead of 8080.
func TestQuickStart(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "trail-data")

	// 1. Start the service; on first start it says how to create the key
	// of step 2, with the name the binary was started by.
	srv := startServe(t, "--data", data)
	hint := trailBin + " keys create --data " + data + " --tenant acme --scopes events:write,events:read"
	if !strings.Contains(srv.Logs(), hint) {
		t.Errorf("first start does not print %q:\n%s", hint, srv.Logs())
	}

	// 2. Create keys while the server runs; --output json prints only JSON.
	out, errOut := runBin(t, nil, "keys", "create", "--data", data, "--tenant", "acme",
		"--scopes", "events:write,events:read", "--output", "json")
	var created map[string]string
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatalf("keys create --output json printed %q, not JSON: %v", out, err)
	}
	if len(created) != 2 || created["id"] == "" || !strings.HasPrefix(created["secret"], "trail_") {
		t.Fatalf("keys create --output json printed %q, want exactly id and secret", out)
	}
	if errOut != "" {
		t.Errorf("keys create wrote to stderr: %q", errOut)
	}
	key := created["secret"]
	humanOut, _ := runBin(t, nil, "keys", "create", "--data", data, "--platform",
		"--scopes", "admin,events:write,events:read")
	if !strings.Contains(humanOut, "Secret") || !strings.Contains(humanOut, "trail_k_") {
		t.Errorf("keys create prints no secret:\n%s", humanOut)
	}

	// 3. Send an event, as with curl.
	// occurred_at to the microsecond: a time cut to the second sorts before
	// or after the keys created just before, by chance.
	body := `{"action": "document.shared", "occurred_at": "` + time.Now().UTC().Format(time.RFC3339Nano) + `",
	  "actor": {"type": "user", "id": "u_42", "name": "Ada"},
	  "targets": [{"type": "document", "id": "d_7"}], "context": {"ip": "203.0.113.7"}}`
	status, resp := httpDo(t, "POST", srv.URL+"/v1/events", key, body)
	if status != http.StatusCreated {
		t.Fatalf("POST /v1/events: %d %s", status, resp)
	}
	var ids struct{ IDs []string }
	json.Unmarshal([]byte(resp), &ids)
	if len(ids.IDs) != 1 {
		t.Fatalf("POST /v1/events answered %s", resp)
	}

	// 4. Read it back: the API, then the CLI.
	status, resp = httpDo(t, "GET", srv.URL+"/v1/events?action=document.*", key, "")
	if status != http.StatusOK || !strings.Contains(resp, ids.IDs[0]) {
		t.Fatalf("GET /v1/events: %d %s", status, resp)
	}
	cliEnv := []string{"TRAIL_SERVER=" + srv.URL, "TRAIL_KEY=" + key}
	list, _ := runBin(t, cliEnv, "events", "list", "--action", "document.*")
	if !strings.Contains(list, ids.IDs[0]) || !strings.Contains(list, "user:u_42 (Ada)") {
		t.Errorf("trail events list:\n%s", list)
	}
	got, _ := runBin(t, cliEnv, "events", "get", ids.IDs[0])
	if !strings.Contains(got, `"action": "document.shared"`) {
		t.Errorf("trail events get:\n%s", got)
	}

	// 5. Export to a file; stderr is not a terminal, so no progress.
	file := filepath.Join(dir, "audit.csv")
	_, errOut = runBin(t, cliEnv, "events", "export", "--format", "csv", "--output", file)
	if errOut != "" {
		t.Errorf("export to a pipe printed progress: %q", errOut)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	// Newest first: the export's own audit event, the event sent, then the
	// tenant key's api_key.created. The platform key's is in the operator
	// log, which a tenant key never reads.
	var actions []string
	for _, row := range rows[1:] {
		actions = append(actions, row[2])
	}
	want := []string{"export.downloaded", "document.shared", "api_key.created"}
	if !slices.Equal(actions, want) {
		t.Errorf("export has actions %v, want %v", actions, want)
	}

	// 6. SIGTERM shuts down cleanly.
	srv.cmd.Process.Signal(syscall.SIGTERM)
	if err := srv.wait(t); err != nil {
		t.Errorf("trail serve exited with %v after SIGTERM:\n%s", err, srv.Logs())
	}
	if !strings.Contains(srv.Logs(), "trail stopped") {
		t.Errorf("no clean shutdown in the logs:\n%s", srv.Logs())
	}
}

// runBin runs the binary with environment envs and returns its stdout and
// stderr; it fails the test when the command fails.
func runBin(tb testing.TB, envs []string, args ...string) (string, string) {
	tb.Helper()
	cmd := exec.Command(trailBin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, envs...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		tb.Fatalf("trail %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), stderr.String()
}

// httpDo sends one request with the API key and returns the status and
// body.
func httpDo(tb testing.TB, method, url, key, body string) (int, string) {
	tb.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestREADMEQuickStart runs the shell commands of README.md's quick start
// literally, after the server is started, with two substitutions: the
// built binary for `go run ./cmd/trail`, and the test server's address for
// http://127.0.0.1:8080.
func TestREADMEQuickStart(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "sed"} {
		_, err := exec.LookPath(tool)
		testenv.Require(t, "the README's quick start needs "+tool, "apt-get install "+tool, err)
	}
	dir := t.TempDir()
	srv := startServe(t, "--data", filepath.Join(dir, "trail-data"))
	script := "set -euo pipefail\n"
	for _, block := range quickStartBlocks(t) {
		if strings.Contains(block, "./cmd/trail serve") {
			continue // started above
		}
		script += block + "\n"
	}
	script = strings.ReplaceAll(script, "go run ./cmd/trail", trailBin)
	script = strings.ReplaceAll(script, "http://127.0.0.1:8080", srv.URL)
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "TRAIL_SERVER=" + srv.URL}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("quick start failed: %v\nscript:\n%s\noutput:\n%s", err, script, out)
	}
	for _, want := range []string{`{"ids":["`, "document.shared", "api_key.created"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("quick start output lacks %q:\n%s", want, out)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "audit.csv"))
	if err != nil || !strings.Contains(string(b), "document.shared") {
		t.Errorf("audit.csv: %v\n%s", err, b)
	}
}

// quickStartBlocks returns the ```sh blocks of README.md's Quick start
// section, unindented.
func quickStartBlocks(tb testing.TB) []string {
	tb.Helper()
	blocks := readmeBlocks(tb, "Quick start")
	if len(blocks) < 4 {
		tb.Fatalf("found %d sh blocks in the quick start, want at least 4", len(blocks))
	}
	return blocks
}

// TestREADMEConsoleUser runs the command of README.md's Web console section
// literally (the password read from standard input, as a terminal would
// give it), with the built binary for `go run ./cmd/trail`, then signs in
// to the console with that user.
func TestREADMEConsoleUser(t *testing.T) {
	dir := t.TempDir()
	srv := startServe(t, "--data", filepath.Join(dir, "trail-data"))
	blocks := readmeBlocks(t, "Web console")
	if len(blocks) != 1 {
		t.Fatalf("found %d sh blocks in the Web console section, want 1", len(blocks))
	}
	script := "set -euo pipefail\n" + strings.ReplaceAll(blocks[0], "go run ./cmd/trail", trailBin)
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	cmd.Stdin = strings.NewReader(userPassword + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("web console step failed: %v\nscript:\n%s\noutput:\n%s", err, script, out)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	token := csrfField.FindStringSubmatch(fetch(t, c, srv.URL+"/login", http.StatusOK))
	if token == nil {
		t.Fatal("no sign-in form at /login")
	}
	resp, err := c.PostForm(srv.URL+"/login", url.Values{"csrf": {token[1]}, "tenant": {"acme"},
		"email": {"a@example.com"}, "password": {userPassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/events" || resp.StatusCode != http.StatusOK {
		t.Fatalf("after sign-in: %s %d, want the audit log", resp.Request.URL.Path, resp.StatusCode)
	}
}

// readmeBlocks returns the ```sh blocks of README.md's section of that
// title, unindented.
func readmeBlocks(tb testing.TB, title string) []string {
	tb.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		tb.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## "+title+"\n")
	if !ok {
		tb.Fatalf("README.md has no %s section", title)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var blocks []string
	var cur []string
	in := false
	for _, line := range strings.Split(section, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case !in && trimmed == "```sh":
			in, cur = true, nil
		case in && trimmed == "```":
			in = false
			blocks = append(blocks, strings.Join(cur, "\n"))
		case in:
			cur = append(cur, strings.TrimPrefix(line, "   "))
		}
	}
	return blocks
}
