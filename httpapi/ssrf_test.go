package httpapi_test

import (
	"testing"

	"github.com/trailhq/trail"
)

// TestTenantDestinationsRefusedAtCreation: a tenant's forwarder or alert
// webhook whose URL names a loopback, private, link-local or metadata
// address is refused at creation with a 400 naming the field, and nothing
// is created; operator destinations may point anywhere.
func TestTenantDestinationsRefusedAtCreation(t *testing.T) {
	forEachStore(t, func(t *testing.T, s trail.Store) {
		e := newEnv(t, s)
		acme := e.newKey(t, "acme", false, trail.ScopeAdmin)
		bad := []string{
			"http://127.0.0.1:8080/hook", "http://[::1]/hook", "http://10.0.0.7/hook", "https://192.168.1.1/",
			"http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/", "http://[::ffff:127.0.0.1]/",
			"http://0.0.0.0:9000/", "http://[fe80::1%25eth0]/",
		}
		for _, uri := range bad {
			e.do(t, "POST", "/v1/forwarders", acme, `{"name":"siem","kind":"webhook","uri":"`+uri+`"}`).
				wantError(t, 400, trail.EINVALID, "uri")
			e.do(t, "POST", "/v1/forwarders", e.platform, `{"tenant":"acme","name":"siem","kind":"webhook","uri":"`+uri+`"}`).
				wantError(t, 400, trail.EINVALID, "uri")
			e.do(t, "POST", "/v1/alerts/rules", acme, `{"name":"x","condition":{"type":"any"},"webhook":{"url":"`+uri+`"}}`).
				wantError(t, 400, trail.EINVALID, "webhook.url")
		}
		e.do(t, "POST", "/v1/forwarders", acme, `{"name":"syslog","kind":"syslog","uri":"tcp://10.1.1.1:514"}`).
			wantError(t, 400, trail.EINVALID, "uri")
		if l := decode[forwarderList](t, e.do(t, "GET", "/v1/forwarders", e.platform, "").want(t, 200)); len(l.Forwarders) != 0 {
			t.Fatalf("%d forwarders created, want none", len(l.Forwarders))
		}

		e.do(t, "POST", "/v1/forwarders", acme, `{"name":"siem","kind":"webhook","uri":"https://siem.example.com/a"}`).want(t, 201)
		e.do(t, "PATCH", "/v1/forwarders/siem", acme, `{"uri":"http://169.254.169.254/"}`).wantError(t, 400, trail.EINVALID, "uri")
		e.do(t, "POST", "/v1/forwarders", e.platform, `{"name":"ops","kind":"webhook","uri":"http://127.0.0.1:9/"}`).want(t, 201)
		e.do(t, "POST", "/v1/alerts/rules", e.platform, `{"name":"ops","condition":{"type":"any"},"webhook":{"url":"http://10.0.0.7/"}}`).want(t, 201)

		allowed := newEnv(t, s, allowLoopback)
		acme2 := allowed.newKey(t, "acme", false, trail.ScopeAdmin)
		allowed.do(t, "POST", "/v1/forwarders", acme2, `{"name":"local","kind":"webhook","uri":"http://127.0.0.1:9/"}`).want(t, 201)
	})
}
