package console_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
)

// TestStreamsEveryKind adds a forwarder of each kind with its options from
// the streams page, each recorded as the API records it; bad options are a
// 400 that names the field and change nothing.
func TestStreamsEveryKind(t *testing.T) {
	e := newEnv(t)
	c := e.signedIn(t, e.admin)
	_, page := e.get(t, c, "/settings/streams")
	token := csrf(t, page)
	forms := map[string]url.Values{
		"hook": {"kind": {"webhook"}, "uri": {"https://hooks.example.com/trail"}, "token": {"bearer-xyz"},
			"method": {"PUT"}, "timeout": {"5s"}, "actions": {"user.*"}, "batch_size": {"20"}, "batch_wait": {"2s"}},
		"hec": {"kind": {"splunk"}, "uri": {"https://splunk.example.com:8088/services/collector/event"},
			"token": {"hec-token"}, "splunk_index": {"audit"}, "splunk_sourcetype": {"trail:audit"}},
		"syslog": {"kind": {"syslog"}, "uri": {"tls://syslog.example.com:6514"}, "syslog_app_name": {"trail"},
			"syslog_facility": {"10"}, "syslog_server_name": {"logs.example.com"}},
		"archive": {"kind": {"s3"}, "uri": {"https://s3.example.com"}, "s3_bucket": {"audit-archive"},
			"s3_prefix": {"acme/"}, "s3_region": {"eu-central-1"}, "s3_access_key": {"AKIA1"},
			"s3_secret_key": {"S3SECRETVALUE"}, "s3_path_style": {"on"}},
	}
	for name, form := range forms {
		t.Run(name, func(t *testing.T) {
			form.Set("csrf", token)
			form.Set("name", name)
			resp, body := e.post(t, c, "/settings/forwarders", form)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("status %d, want 201:\n%s", resp.StatusCode, body)
			}
			if strings.Contains(body, form.Get("token")+`"`) && form.Get("token") != "" || strings.Contains(body, "S3SECRETVALUE") {
				t.Fatalf("the page shows a credential:\n%s", body)
			}
			f, err := e.db.Forwarder(t.Context(), "acme", name)
			if err != nil {
				t.Fatal(err)
			}
			var ok bool
			switch f.Kind {
			case trail.ForwarderWebhook:
				ok = f.Token == "bearer-xyz" && f.Method == "PUT" && f.Timeout.Std() == 5*time.Second &&
					f.Batch.Size == 20 && f.Batch.Wait.Std() == 2*time.Second && f.Filter.Actions[0] == "user.*"
			case trail.ForwarderSplunk:
				ok = f.Token == "hec-token" && f.Splunk.Index == "audit" && f.Splunk.Sourcetype == "trail:audit"
			case trail.ForwarderSyslog:
				ok = *f.Syslog.Facility == 10 && f.Syslog.ServerName == "logs.example.com" && f.Syslog.AppName == "trail"
			case trail.ForwarderS3:
				ok = f.S3.Bucket == "audit-archive" && f.S3.Prefix == "acme/" && f.S3.SecretKey == "S3SECRETVALUE" && f.S3.PathStyle
			}
			if !ok || f.Kind != form.Get("kind") {
				t.Fatalf("stored forwarder %+v", f)
			}
			rec := e.recorded(t, "acme", "forwarder.created")
			if len(rec) == 0 || rec[len(rec)-1].Targets[0].ID != f.ID || !strings.Contains(string(rec[len(rec)-1].Metadata), `"kind":"`+f.Kind+`"`) {
				t.Fatalf("forwarder.created events %+v", rec)
			}
		})
	}
	t.Run("ErrBadOptions", func(t *testing.T) {
		for _, tt := range []struct {
			form url.Values
			want string
		}{
			{url.Values{"kind": {"kafka"}, "uri": {"https://k.example.com"}}, "kind: must be webhook, splunk, syslog or s3"},
			{url.Values{"kind": {"webhook"}, "uri": {"https://h.example.com"}, "timeout": {"soon"}}, "timeout: must be a duration"},
			{url.Values{"kind": {"webhook"}, "uri": {"https://h.example.com"}, "batch_size": {"ten"}}, "batch.size: must be a whole number"},
			{url.Values{"kind": {"webhook"}, "uri": {"https://h.example.com"}, "method": {"DELETE"}}, "method"},
			{url.Values{"kind": {"webhook"}, "uri": {"https://h.example.com"}, "s3_bucket": {"b"}}, "s3: only s3 forwarders take s3 settings"},
			{url.Values{"kind": {"syslog"}, "uri": {"tcp://syslog.example.com:514"}, "syslog_facility": {"40"}}, "syslog.facility: must be from 0 to 23"},
			{url.Values{"kind": {"syslog"}, "uri": {"tcp://syslog.example.com:514"}, "syslog_ca": {"not a pem"}}, "syslog.ca"},
			{url.Values{"kind": {"s3"}, "uri": {"https://s3.example.com"}}, "s3.bucket"},
			{url.Values{"kind": {"splunk"}, "uri": {"http://10.0.0.8:8088/"}}, "uri: address 10.0.0.8 is refused"},
		} {
			before := e.consoleSnapshot(t)
			tt.form.Set("csrf", token)
			tt.form.Set("name", "bad")
			if k := tt.form.Get("kind"); k == "webhook" || k == "splunk" {
				tt.form.Set("token", "never-echoed")
			}
			resp, body := e.post(t, c, "/settings/forwarders", tt.form)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, html.EscapeString(tt.want)) {
				t.Fatalf("form %v: status %d, want 400 with %q", tt.form, resp.StatusCode, tt.want)
			}
			if strings.Contains(body, "never-echoed") {
				t.Fatal("the page sends the token back")
			}
			if e.consoleSnapshot(t) != before {
				t.Fatalf("form %v changed something", tt.form)
			}
		}
	})
	t.Run("ErrMember", func(t *testing.T) {
		if status, _ := e.get(t, e.signedIn(t, e.member), "/settings/streams"); status != http.StatusForbidden {
			t.Fatalf("a member: status %d, want 403", status)
		}
	})
}
