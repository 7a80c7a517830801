package forward_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/forward"
	"gopkg.in/yaml.v3"
)

// configYAML is the forwarders section of docs/forwarders.md: one
// forwarder of each kind, as an operator writes them in trail.yaml.
const configYAML = `
forwarders:
  - name: siem
    kind: webhook          # webhook | splunk | syslog | s3
    uri: https://siem.example.internal/audit
    token: THE-SECRET-TOKEN
    secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
    method: POST
    timeout: 5s
    filter: {actions: ["user.*", "api_key.*"], tenants: [acme]}
  - name: siem-batched
    kind: webhook
    uri: https://siem.example.internal/audit/batch
    batch: {size: 100, wait: 2s}
    retry: {max_attempts: 20, min_backoff: 500ms, max_backoff: 1m}
  - name: splunk
    kind: splunk
    uri: https://splunk.example.internal:8088
    token: 11111111-2222-3333-4444-555555555555
    splunk: {index: audit, sourcetype: "trail:audit"}
  - name: syslog
    kind: syslog
    uri: tls://logs.example.internal:6514
    syslog: {hostname: trail-1, facility: 13}
  - name: archive
    kind: s3
    uri: https://s3.eu-west-1.amazonaws.com
    start: beginning
    batch: {wait: 1m}
    s3: {bucket: acme-audit-archive, prefix: trail/, region: eu-west-1, access_key: AKIAEXAMPLE, secret_key: example-secret}
`

// TestConfigYAML decodes the documented config the way trail serve does
// (unknown keys are errors) and checks that it is valid.
func TestConfigYAML(t *testing.T) {
	var cfg struct {
		Forwarders []trail.Forwarder `yaml:"forwarders"`
	}
	dec := yaml.NewDecoder(strings.NewReader(configYAML))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	if err := forward.ValidateConfig(cfg.Forwarders); err != nil {
		t.Fatal(err)
	}
	siem := cfg.Forwarders[0]
	if siem.Timeout.Std() != 5*time.Second || siem.Filter.Actions[1] != "api_key.*" || siem.Filter.Tenants[0] != "acme" {
		t.Errorf("siem = %+v", siem)
	}
	if b := cfg.Forwarders[1].Batch; b.Size != 100 || b.Wait.Std() != 2*time.Second {
		t.Errorf("batch = %+v", b)
	}
	if *cfg.Forwarders[3].Syslog.Facility != 13 || cfg.Forwarders[4].S3.Bucket != "acme-audit-archive" {
		t.Errorf("syslog or s3 settings lost: %+v %+v", cfg.Forwarders[3].Syslog, cfg.Forwarders[4].S3)
	}

	bad := yaml.NewDecoder(bytes.NewReader([]byte("forwarders:\n  - name: x\n    tenant: acme\n")))
	bad.KnownFields(true)
	if err := bad.Decode(&cfg); err == nil || !strings.Contains(err.Error(), "tenant") {
		t.Errorf("a tenant in the config file: %v, want an unknown-field error", err)
	}
}
