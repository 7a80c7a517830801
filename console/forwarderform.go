package console

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/trailhq/trail"
)

// secretFields are the forwarder form's credentials, never sent back in a
// page.
var secretFields = map[string]bool{"csrf": true, "token": true, "s3_secret_key": true}

// readForwarderForm reads the streams page's form into a forwarder; the
// kind's settings are set when any of their fields is, so that forward's
// checks refuse settings of another kind instead of dropping them. Numbers
// and durations that do not parse are refused here, naming the field as
// the API names it.
func readForwarderForm(r *http.Request) (*trail.Forwarder, error) {
	val := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	var p trail.Problems
	f := &trail.Forwarder{Kind: val("kind"), Name: val("name"), URI: val("uri"), Token: val("token"),
		Method: val("method"), Start: val("start"),
		Timeout: formDuration(&p, "timeout", val("timeout")),
		Filter:  trail.ForwarderFilter{Actions: splitActions(val("actions"))},
		Batch:   trail.BatchConfig{Size: formInt(&p, "batch.size", val("batch_size")), Wait: formDuration(&p, "batch.wait", val("batch_wait"))},
	}
	if f.Start == "" {
		f.Start = trail.StartNow
	}
	if !r.PostForm.Has("kind") {
		f.Kind = trail.ForwarderWebhook // the form's default, as before other kinds
	}
	if sp := (trail.SplunkConfig{Index: val("splunk_index"), Sourcetype: val("splunk_sourcetype"),
		Source: val("splunk_source"), Host: val("splunk_host")}); sp != (trail.SplunkConfig{}) {
		f.Splunk = &sp
	}
	sl := trail.SyslogConfig{AppName: val("syslog_app_name"), Hostname: val("syslog_hostname"),
		CA: strings.TrimSpace(r.PostFormValue("syslog_ca")), ServerName: val("syslog_server_name")}
	if v := val("syslog_facility"); v != "" {
		n := formInt(&p, "syslog.facility", v)
		sl.Facility = &n
	}
	if sl != (trail.SyslogConfig{}) {
		f.Syslog = &sl
	}
	if s3 := (trail.S3Config{Bucket: val("s3_bucket"), Prefix: val("s3_prefix"), Region: val("s3_region"),
		AccessKey: val("s3_access_key"), SecretKey: val("s3_secret_key"),
		PathStyle: r.PostFormValue("s3_path_style") != ""}); s3 != (trail.S3Config{}) {
		f.S3 = &s3
	}
	return f, p.Err()
}

// formInt reads an optional whole number.
func formInt(p *trail.Problems, field, v string) int {
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		p.Add(-1, field, "must be a whole number")
	}
	return n
}

// formDuration reads an optional duration.
func formDuration(p *trail.Problems, field, v string) trail.Duration {
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		p.Add(-1, field, "must be a duration like 10s, 5m or 1h")
	}
	return trail.Duration(d)
}
