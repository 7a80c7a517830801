package forward_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/forward"
)

func TestPrepareDefaults(t *testing.T) {
	f := &trail.Forwarder{Name: "siem", Kind: trail.ForwarderWebhook, URI: "https://siem.example.com/audit"}
	if err := forward.Prepare(f); err != nil {
		t.Fatal(err)
	}
	if f.Method != "POST" || f.Timeout.Std() != 5*time.Second || f.Batch.Size != 1 || f.Start != trail.StartNow ||
		f.Retry.MaxAttempts != forward.DefaultMaxAttempts || !strings.HasPrefix(f.Secret, "whsec_") {
		t.Errorf("defaults = %+v", f)
	}
	s3 := &trail.Forwarder{Name: "archive", Kind: trail.ForwarderS3, URI: "https://s3.example.com",
		S3: &trail.S3Config{Bucket: "audit", AccessKey: "a", SecretKey: "b"}}
	if err := forward.Prepare(s3); err != nil {
		t.Fatal(err)
	}
	if s3.Batch.Wait.Std() != time.Minute || s3.S3.Region != "us-east-1" || s3.Secret != "" {
		t.Errorf("s3 defaults = %+v %+v", s3, s3.S3)
	}
}

// TestPrepareErrors: each bad field gets an error naming it.
func TestPrepareErrors(t *testing.T) {
	webhook := func(change func(f *trail.Forwarder)) *trail.Forwarder {
		f := &trail.Forwarder{Name: "siem", Kind: trail.ForwarderWebhook, URI: "https://siem.example.com/audit"}
		change(f)
		return f
	}
	tests := []struct {
		name string
		f    *trail.Forwarder
		want string
	}{
		{"ErrNameChars", webhook(func(f *trail.Forwarder) { f.Name = "Siem/1" }), "name: 1 to 64"},
		{"ErrUserAgent", webhook(func(f *trail.Forwarder) { f.UserAgent = "a\nb" }), "user_agent: at most 256 printable"},
		{"ErrKind", webhook(func(f *trail.Forwarder) { f.Kind = "kafka" }), "kind: must be webhook, splunk, syslog or s3"},
		{"ErrURIRequired", webhook(func(f *trail.Forwarder) { f.URI = "" }), "uri: required"},
		{"ErrURIScheme", webhook(func(f *trail.Forwarder) { f.URI = "ftp://x.example.com" }), "uri: must be an http or https URL"},
		{"ErrURICredentials", webhook(func(f *trail.Forwarder) { f.URI = "https://u:p@x.example.com" }), "uri: must not hold credentials"},
		{"ErrMethod", webhook(func(f *trail.Forwarder) { f.Method = "DELETE" }), "method: must be POST, PUT or PATCH"},
		{"ErrSecret", webhook(func(f *trail.Forwarder) { f.Secret = "hunter2" }), `secret: must be "whsec_"`},
		{"ErrTokenNewline", webhook(func(f *trail.Forwarder) { f.Token = "a\nb" }), "token: must be at most 4096"},
		{"ErrTimeout", webhook(func(f *trail.Forwarder) { f.Timeout = trail.Duration(time.Hour) }), "timeout: must be from 1ms to 10m0s"},
		{"ErrBatchSize", webhook(func(f *trail.Forwarder) { f.Batch.Size = 20000 }), "batch.size: must be from 1 to 10000"},
		{"ErrMaxAttempts", webhook(func(f *trail.Forwarder) { f.Retry.MaxAttempts = -1 }), "retry.max_attempts: must be from 1 to 1000"},
		{"ErrAction", webhook(func(f *trail.Forwarder) { f.Filter.Actions = []string{"user.*", "User Created"} }), "filter.actions[1]: must be an action"},
		{"ErrTenant", webhook(func(f *trail.Forwarder) { f.Filter.Tenants = []string{"a b"} }), "filter.tenants[0]: must be a tenant"},
		{"ErrOtherTenant", webhook(func(f *trail.Forwarder) { f.Tenant = "acme"; f.Filter.Tenants = []string{"globex"} }),
			"filter.tenants[0]: a tenant's forwarder sees only its own tenant"},
		{"ErrStart", webhook(func(f *trail.Forwarder) { f.Start = "yesterday" }), "start: must be now or beginning"},
		{"ErrSettingsOfOtherKind", webhook(func(f *trail.Forwarder) { f.S3 = &trail.S3Config{} }), "s3: only s3 forwarders"},
		{"ErrSplunkToken", &trail.Forwarder{Name: "s", Kind: trail.ForwarderSplunk, URI: "https://splunk.example.com:8088"},
			"token: required: the HEC token"},
		{"ErrSplunkMethod", &trail.Forwarder{Name: "s", Kind: trail.ForwarderSplunk, URI: "https://splunk.example.com:8088",
			Token: "t", Method: "PUT"}, "method: only webhook forwarders take a method"},
		{"ErrSyslogScheme", &trail.Forwarder{Name: "s", Kind: trail.ForwarderSyslog, URI: "udp://logs.example.com:514"},
			"uri: must be tcp://host:port or tls://host:port"},
		{"ErrSyslogPort", &trail.Forwarder{Name: "s", Kind: trail.ForwarderSyslog, URI: "tcp://logs.example.com"},
			"uri: must be tcp://host:port or tls://host:port"},
		{"ErrSyslogCAWithoutTLS", &trail.Forwarder{Name: "s", Kind: trail.ForwarderSyslog, URI: "tcp://logs.example.com:601",
			Syslog: &trail.SyslogConfig{CA: "x"}}, "syslog.ca: must be PEM certificates, for a tls:// uri"},
		{"ErrSyslogFacility", &trail.Forwarder{Name: "s", Kind: trail.ForwarderSyslog, URI: "tcp://logs.example.com:601",
			Syslog: &trail.SyslogConfig{Facility: new(24)}}, "syslog.facility: must be from 0 to 23"},
		{"ErrS3Missing", &trail.Forwarder{Name: "a", Kind: trail.ForwarderS3, URI: "https://s3.example.com"}, "s3.bucket: required"},
		{"ErrS3Bucket", &trail.Forwarder{Name: "a", Kind: trail.ForwarderS3, URI: "https://s3.example.com",
			S3: &trail.S3Config{Bucket: "No_Such", AccessKey: "a", SecretKey: "b"}}, "s3.bucket: must be a bucket name"},
		{"ErrS3URIPath", &trail.Forwarder{Name: "a", Kind: trail.ForwarderS3, URI: "https://s3.example.com/bucket",
			S3: &trail.S3Config{Bucket: "audit", AccessKey: "a", SecretKey: "b"}}, "uri: must be the endpoint of the S3 service"},
		{"ErrS3Keys", &trail.Forwarder{Name: "a", Kind: trail.ForwarderS3, URI: "https://s3.example.com",
			S3: &trail.S3Config{Bucket: "audit"}}, "s3.access_key: s3.access_key and s3.secret_key are required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := forward.Prepare(tt.f)
			if got := trail.ErrorMessage(err); !strings.HasPrefix(got, tt.want) || trail.ErrorCode(err) != trail.EINVALID {
				t.Errorf("error %q (%s), want one starting %q", got, trail.ErrorCode(err), tt.want)
			}
		})
	}
}

func TestValidateConfig(t *testing.T) {
	fs := []trail.Forwarder{
		{Name: "siem", Kind: trail.ForwarderWebhook, URI: "https://siem.example.com"},
		{Name: "siem", Kind: trail.ForwarderWebhook, URI: "https://other.example.com", Method: "GET"},
	}
	err := forward.ValidateConfig(fs)
	var te *trail.Error
	if !errors.As(err, &te) || len(te.Details) != 2 {
		t.Fatalf("error %v, want two problems", err)
	}
	if got, want := te.Details[0].Field, "forwarders[1].method"; got != want {
		t.Errorf("first problem field %s, want %s", got, want)
	}
	if got, want := te.Details[1].Field+": "+te.Details[1].Problem, `forwarders[1].name: "siem" is already the name of forwarders[0]`; got != want {
		t.Errorf("second problem %q, want %q", got, want)
	}
	if fs[0].Secret != "" || fs[0].Method != "" {
		t.Errorf("ValidateConfig changed its input: %+v", fs[0])
	}
}

func TestPatch(t *testing.T) {
	s := MustOpenStore(t)
	f := MustCreate(t, s, &trail.Forwarder{Name: "siem", Kind: trail.ForwarderWebhook, URI: "https://a.example.com",
		Token: "tok-1", Filter: trail.ForwarderFilter{Actions: []string{"user.*"}}})
	t.Run("OK", func(t *testing.T) {
		next, err := forward.Patch(f, []byte(`{"uri":"https://b.example.com","token":null,"filter":{"tenants":["acme"]}}`), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if next.URI != "https://b.example.com" || next.Token != "" || next.Secret != f.Secret || next.ID != f.ID ||
			len(next.Filter.Actions) != 1 || len(next.Filter.Tenants) != 1 {
			t.Errorf("patched = %+v", next)
		}
		if got, want := strings.Join(forward.Changed(f, next), ","), "filter,token,uri"; got != want {
			t.Errorf("Changed = %s, want %s", got, want)
		}
		if f.URI != "https://a.example.com" {
			t.Errorf("Patch changed its input")
		}
	})
	t.Run("OKRotateSecret", func(t *testing.T) {
		next, err := forward.Patch(f, []byte(`{"secret":null}`), time.Now())
		if err != nil || next.Secret == f.Secret || !strings.HasPrefix(next.Secret, "whsec_") {
			t.Errorf("secret after null = %q (%v), want a new one", next.Secret, err)
		}
	})
	errs := map[string]string{
		`{"name":"other"}`:       "name: cannot be changed",
		`{"kind":"splunk"}`:      "kind: cannot be changed",
		`{"method":"GET"}`:       "method: must be POST, PUT or PATCH",
		`{"nope":1}`:             "body: json: unknown field",
		`{"timeout":"soon"}`:     "body: not a duration",
		`{"batch":{"size":"x"}}`: "batch.size: must be",
		`[1]`:                    "body: must be a JSON object",
	}
	for body, want := range errs {
		t.Run("Err"+body, func(t *testing.T) {
			_, err := forward.Patch(f, []byte(body), time.Now())
			if got := trail.ErrorMessage(err); !strings.HasPrefix(got, want) {
				t.Errorf("error %q, want one starting %q", got, want)
			}
		})
	}
}

// TestSync: config forwarders are created, updated in place (keeping the
// generated secret and the cursor) and deleted, each change audited; an
// API forwarder of the same name is an error, and is left alone.
func TestSync(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStore(t)
	cfg := []trail.Forwarder{{Name: "siem", Kind: trail.ForwarderWebhook, URI: "https://a.example.com"}}
	if err := forward.Sync(ctx, s, cfg, configActor, trail.Context{}, time.Now()); err != nil {
		t.Fatal(err)
	}
	created, err := s.Forwarder(ctx, "", "siem")
	if err != nil || created.ManagedBy != trail.ManagedByConfig {
		t.Fatalf("after sync: %+v, %v", created, err)
	}
	if err := forward.Sync(ctx, s, cfg, configActor, trail.Context{}, time.Now()); err != nil {
		t.Fatal(err)
	}
	cfg[0].URI = "https://b.example.com"
	if err := forward.Sync(ctx, s, cfg, configActor, trail.Context{}, time.Now()); err != nil {
		t.Fatal(err)
	}
	updated, _ := s.Forwarder(ctx, "", "siem")
	if updated.ID != created.ID || updated.URI != "https://b.example.com" || updated.Secret != created.Secret {
		t.Errorf("updated = %+v, want the same forwarder with the new uri and the old secret", updated)
	}
	MustCreate(t, s, &trail.Forwarder{Name: "by-api", Kind: trail.ForwarderWebhook, URI: "https://c.example.com"})
	if err := forward.Sync(ctx, s, nil, configActor, trail.Context{}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Forwarder(ctx, "", "siem"); trail.ErrorCode(err) != trail.ENOTFOUND {
		t.Errorf("siem after removal from config: %v, want not found", err)
	}
	clash := []trail.Forwarder{{Name: "by-api", Kind: trail.ForwarderWebhook, URI: "https://d.example.com"}}
	if err := forward.Sync(ctx, s, clash, configActor, trail.Context{}, time.Now()); !strings.Contains(trail.ErrorMessage(err), "created through the API") {
		t.Errorf("clash error %v", err)
	}
	var actions []string
	evs, _ := s.StreamEvents(ctx, 0, 100)
	for _, e := range evs {
		actions = append(actions, e.Action)
		if e.Actor.Name != configActor.Name {
			t.Errorf("%s actor %+v, want the config file %+v", e.Action, e.Actor, configActor)
		}
	}
	if got, want := strings.Join(actions, ","), "forwarder.created,forwarder.updated,forwarder.deleted"; got != want {
		t.Errorf("audit events %s, want %s", got, want)
	}
	if !strings.Contains(string(evs[1].Metadata), `"changed":["uri"]`) {
		t.Errorf("update metadata %s, want changed: [uri]", evs[1].Metadata)
	}
}
