// Package chart_test checks Trail's Helm chart (deploy/helm/trail): helm
// lint and helm template in both modes, every rendered manifest decoded
// strictly (unknown fields are errors) as its k8s.io/api type, and the
// rendered config file accepted by Trail's own forwarder validation.
//
// It is a module of its own so that k8s.io/api stays out of Trail's
// go.mod; helm runs from the module proxy with `go run`, pinned below.
package chart_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/forward"
	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	sigsyaml "sigs.k8s.io/yaml"
)

// helmVersion is the helm that the test runs (go run, cached by the go
// command after the first build).
const helmVersion = "helm.sh/helm/v3/cmd/helm@v3.22.0"

const chart = "../trail"

// helm runs helm with args and returns its standard output.
func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("go", append([]string{"run", helmVersion}, args...)...)
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(),
		"HELM_DATA_HOME="+t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// manifests are the rendered objects, by kind.
type manifests struct {
	statefulSets []*appsv1.StatefulSet
	deployments  []*appsv1.Deployment
	services     []*corev1.Service
	secrets      []*corev1.Secret
	ingresses    []*networkingv1.Ingress
}

// render runs helm template with values files and decodes every document
// strictly as its type.
func render(t *testing.T, values ...string) *manifests {
	t.Helper()
	args := []string{"template", "t", chart, "--namespace", "audit"}
	for _, v := range values {
		args = append(args, "--values", v)
	}
	out, err := helm(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	m := &manifests{}
	for _, doc := range strings.Split(out, "\n---") {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		var meta struct{ Kind string }
		if err := sigsyaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatalf("not YAML: %v\n%s", err, doc)
		}
		var obj any
		switch meta.Kind {
		case "StatefulSet":
			obj = appendNew(&m.statefulSets)
		case "Deployment":
			obj = appendNew(&m.deployments)
		case "Service":
			obj = appendNew(&m.services)
		case "Secret":
			obj = appendNew(&m.secrets)
		case "Ingress":
			obj = appendNew(&m.ingresses)
		default:
			t.Fatalf("unexpected kind %q:\n%s", meta.Kind, doc)
		}
		if err := sigsyaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			t.Fatalf("%s does not decode strictly as k8s.io/api: %v\n%s", meta.Kind, err, doc)
		}
	}
	return m
}

func appendNew[T any](list *[]*T) *T {
	v := new(T)
	*list = append(*list, v)
	return v
}

func stripComments(doc string) string {
	var lines []string
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

func writeValues(t *testing.T, content string) string {
	t.Helper()
	path := t.TempDir() + "/values.yaml"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLint(t *testing.T) {
	for _, values := range []string{"", postgresValues} {
		args := []string{"lint", "--strict", chart}
		if values != "" {
			args = append(args, "--values", writeValues(t, values))
		}
		if out, err := helm(t, args...); err != nil {
			t.Errorf("%v\n%s", err, out)
		}
	}
}

func TestSQLiteMode(t *testing.T) {
	m := render(t, writeValues(t, `
auditLogForwarders:
  - kind: webhook
    uri: https://siem.example.com/audit
    token: s3cret
    method: POST
ingress:
  enabled: true
  className: nginx
  hosts: [{host: audit.example.com, paths: [{path: /, pathType: Prefix}]}]
  tls: [{secretName: audit-tls, hosts: [audit.example.com]}]
`))
	if len(m.statefulSets) != 1 || len(m.deployments) != 0 || len(m.services) != 1 || len(m.ingresses) != 1 {
		t.Fatalf("rendered %d statefulsets, %d deployments, %d services, %d ingresses",
			len(m.statefulSets), len(m.deployments), len(m.services), len(m.ingresses))
	}
	ss := m.statefulSets[0]
	if *ss.Spec.Replicas != 1 || len(ss.Spec.VolumeClaimTemplates) != 1 || ss.Spec.VolumeClaimTemplates[0].Name != "data" {
		t.Errorf("statefulset: replicas %d, claims %+v", *ss.Spec.Replicas, ss.Spec.VolumeClaimTemplates)
	}
	checkPod(t, &ss.Spec.Template.Spec)
	cfg := configFile(t, m)
	if cfg.SecretsKey != "/data/secrets.key" {
		t.Errorf("config secrets_key %q, want /data/secrets.key in the volume", cfg.SecretsKey)
	}
	if len(cfg.Forwarders) != 1 || cfg.Forwarders[0].Token != "s3cret" {
		t.Errorf("config forwarders: %+v", cfg.Forwarders)
	}
	if m.ingresses[0].Spec.Rules[0].Host != "audit.example.com" {
		t.Errorf("ingress: %+v", m.ingresses[0].Spec)
	}
}

const postgresValues = `
mode: postgresql
replicaCount: 3
postgresql:
  dsn: postgres://trail:pw@db.internal:5432/trail
ledger:
  origin: audit.example.com
  key: "PRIVATE+KEY+audit.example.com+0123abcd+AAAA"
secretsKey:
  key: "trail-secrets-key v1\n0123456789abcdef AAAA\n"
settings:
  log_level: warn
  trust_proxy_headers: true
forwarders:
  - name: splunk
    kind: splunk
    uri: https://splunk.example.com:8088
    token: hec
    user_agent: acme-audit/1.0
`

func TestPostgreSQLMode(t *testing.T) {
	m := render(t, writeValues(t, postgresValues))
	if len(m.deployments) != 1 || len(m.statefulSets) != 0 {
		t.Fatalf("rendered %d deployments, %d statefulsets", len(m.deployments), len(m.statefulSets))
	}
	d := m.deployments[0]
	if *d.Spec.Replicas != 3 {
		t.Errorf("replicas %d, want 3", *d.Spec.Replicas)
	}
	pod := &d.Spec.Template.Spec
	checkPod(t, pod)
	var store *corev1.EnvVar
	for i, e := range pod.Containers[0].Env {
		if e.Name == "TRAIL_STORE" {
			store = &pod.Containers[0].Env[i]
		}
	}
	if store == nil || store.ValueFrom == nil || store.ValueFrom.SecretKeyRef == nil {
		t.Fatalf("TRAIL_STORE does not come from a Secret: %+v", pod.Containers[0].Env)
	}
	secrets := map[string]*corev1.Secret{}
	for _, s := range m.secrets {
		secrets[s.Name] = s
	}
	if s := secrets[store.ValueFrom.SecretKeyRef.Name]; s == nil || s.StringData["dsn"] != "postgres://trail:pw@db.internal:5432/trail" {
		t.Errorf("the DSN secret %q: %+v", store.ValueFrom.SecretKeyRef.Name, s)
	}
	var ledgerSecret string
	for _, v := range pod.Volumes {
		if v.Name == "ledger" && v.Secret != nil {
			ledgerSecret = v.Secret.SecretName
		}
	}
	if s := secrets[ledgerSecret]; s == nil || !strings.HasPrefix(s.StringData["ledger.key"], "PRIVATE+KEY") {
		t.Errorf("the ledger key secret %q: %+v", ledgerSecret, s)
	}
	var secretsKeySecret string
	for _, v := range pod.Volumes {
		if v.Name == "secrets-key" && v.Secret != nil {
			secretsKeySecret = v.Secret.SecretName
		}
	}
	if s := secrets[secretsKeySecret]; s == nil || !strings.HasPrefix(s.StringData["secrets.key"], "trail-secrets-key") {
		t.Errorf("the secrets key secret %q: %+v", secretsKeySecret, s)
	}
	cfg := configFile(t, m)
	if cfg.SecretsKey != "/etc/trail/secrets/secrets.key" {
		t.Errorf("config secrets_key %q, want the mounted shared key", cfg.SecretsKey)
	}
	if cfg.LedgerKey != "/etc/trail/ledger/ledger.key" || cfg.LedgerOrigin != "audit.example.com" || cfg.LogLevel != "warn" {
		t.Errorf("config file: %+v", cfg)
	}
	if len(cfg.Forwarders) != 1 || cfg.Forwarders[0].UserAgent != "acme-audit/1.0" {
		t.Errorf("forwarders: %+v", cfg.Forwarders)
	}
}

// TestPostgreSQLModeNeedsSecrets: without a DSN or a shared ledger key the
// chart refuses to render, naming the value to set.
func TestPostgreSQLModeNeedsSecrets(t *testing.T) {
	for values, want := range map[string]string{
		"mode: postgresql\n": "postgresql.dsn",
		"mode: postgresql\npostgresql: {dsn: postgres://x@y/z}\n":                   "ledger.key",
		"mode: postgresql\npostgresql: {dsn: postgres://x@y/z}\nledger: {key: k}\n": "secretsKey.key",
		"mode: mysql\n": "mode",
	} {
		_, err := helm(t, "template", "t", chart, "--values", writeValues(t, values))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("values %q: %v, want an error naming %s", values, err, want)
		}
	}
}

// checkPod checks what both modes share: non-root, read-only root file
// system, probes, and the config file mount.
func checkPod(t *testing.T, pod *corev1.PodSpec) {
	t.Helper()
	c := pod.Containers[0]
	sc, psc := c.SecurityContext, pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Errorf("pod security context %+v, want non-root", psc)
	}
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("container security context %+v, want a read-only root and no privilege escalation", sc)
	}
	if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" ||
		c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("probes: liveness %+v, readiness %+v", c.LivenessProbe, c.ReadinessProbe)
	}
	mounts := map[string]bool{}
	for _, vm := range c.VolumeMounts {
		mounts[vm.MountPath] = true
	}
	for _, p := range []string{"/data", "/tmp", "/etc/trail/config"} {
		if !mounts[p] {
			t.Errorf("no volume at %s (the root file system is read-only)", p)
		}
	}
}

// config is the part of Trail's config file the tests look at.
type config struct {
	Addr         string            `yaml:"addr"`
	Data         string            `yaml:"data"`
	LogLevel     string            `yaml:"log_level"`
	LedgerKey    string            `yaml:"ledger_key"`
	SecretsKey   string            `yaml:"secrets_key"`
	LedgerOrigin string            `yaml:"ledger_origin"`
	Forwarders   []trail.Forwarder `yaml:"forwarders"`
	Rest         map[string]any    `yaml:",inline"`
}

// configFile decodes the rendered config file and checks its forwarders
// as trail serve would.
func configFile(t *testing.T, m *manifests) *config {
	t.Helper()
	for _, s := range m.secrets {
		if body, ok := s.StringData["trail.yaml"]; ok {
			var c config
			dec := yaml.NewDecoder(strings.NewReader(body))
			dec.KnownFields(true)
			if err := dec.Decode(&c); err != nil {
				t.Fatalf("config file: %v\n%s", err, body)
			}
			if c.Addr != "0.0.0.0:8080" || c.Data != "/data" {
				t.Errorf("config file addr %q, data %q", c.Addr, c.Data)
			}
			if err := forward.ValidateConfig(c.Forwarders); err != nil {
				t.Errorf("trail refuses the rendered forwarders: %v", err)
			}
			b, _ := json.Marshal(c.Rest)
			t.Logf("other settings: %s", b)
			return &c
		}
	}
	t.Fatal("no config file secret")
	return nil
}

// TestDeployDocValues renders the values file of docs/deploy.md's
// Kubernetes section, literally.
func TestDeployDocValues(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "PostgreSQL mode, with a values file:\n\n```yaml\n")
	if !ok {
		t.Fatal("docs/deploy.md has no PostgreSQL values file")
	}
	values, _, _ := strings.Cut(rest, "```")
	m := render(t, writeValues(t, values))
	if len(m.deployments) != 1 || *m.deployments[0].Spec.Replicas != 3 || len(m.ingresses) != 1 {
		t.Fatalf("rendered %d deployments, %d ingresses", len(m.deployments), len(m.ingresses))
	}
	checkPod(t, &m.deployments[0].Spec.Template.Spec)
	if img := m.deployments[0].Spec.Template.Spec.Containers[0].Image; !strings.HasPrefix(img, "registry.example.com/trail:") {
		t.Errorf("image %q", img)
	}
	cfg := configFile(t, m)
	if len(cfg.Forwarders) != 1 || cfg.Forwarders[0].Kind != "webhook" || cfg.LedgerKey == "" || cfg.SecretsKey == "" {
		t.Errorf("config file: %+v", cfg)
	}
}
