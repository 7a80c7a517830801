package httpapi_test

import (
	"encoding/hex"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/httpapi"
	"github.com/trailhq/trail/internal/testenv"
	"github.com/trailhq/trail/internal/teststore"
	"github.com/trailhq/trail/sqlite"
	collogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/protobuf/proto"
)

// TestOpenAPIValidatesRealTraffic drives every route of the route table on
// a real server over a real SQLite store, with successes and the errors a
// client meets (400, 401, 403, 404, 405, 409, 413, 422, 503), and checks
// every request and answer against openapi.json with libopenapi-validator.
// A route without a successful and a failed call fails the test, so a new
// route cannot be left out of the document.
func TestOpenAPIValidatesRealTraffic(t *testing.T) {
	s := teststore.SQLite(t)
	e := newLedgerEnv(t, s, allowLoopback, func(c *httpapi.Config) { c.MetricsToken = metricsToken })
	runManager(t, s)
	runEvaluator(t, e)
	sc := newSpecCheck(t, e)
	k := scenarioKeys{
		admin:  e.newKey(t, "acme", false, trail.ScopeAdmin),
		writer: e.newKey(t, "acme", false, trail.ScopeEventsWrite),
		reader: e.newKey(t, "acme", false, trail.ScopeEventsRead),
		globex: e.newKey(t, "globex", false, trail.ScopeAdmin),
	}
	scenarioOps(sc)
	id := scenarioEvents(sc, k)
	scenarioLedger(sc, k, id)
	scenarioKeysAPI(sc, k)
	scenarioUsers(sc, k)
	scenarioForwarders(sc, k)
	scenarioSchemas(sc, k)
	scenarioRetention(sc, k)
	scenarioSSO(sc, k)
	scenarioMFA(sc, k)
	scenarioAlerts(sc, k)
	scenarioLogs(sc, k, id)
	scenarioEveryRoute(sc, k)
	scenarioFaults(sc)
	sc.requireCoverage()
}

// scenarioOps calls the operations routes; the metrics need the token.
func scenarioOps(sc *specCheck) {
	for _, path := range []string{"/healthz", "/readyz", "/openapi.json"} {
		sc.do(call{method: "GET", path: path, status: 200})
	}
	sc.do(call{method: "GET", path: "/metrics", secret: metricsToken, status: 200})
	sc.do(call{method: "GET", path: "/metrics", status: 404, badRequest: true})
}

// scenarioFaults runs a second server, without the ledger and over a
// store that is then closed: 503 answers.
func scenarioFaults(sc *specCheck) {
	db, err := sqlite.Open(filepath.Join(sc.t.TempDir(), "trail.db"))
	if err != nil {
		sc.t.Fatal(err)
	}
	bare := newEnv(sc.t, db)
	sc.e = bare
	defer func() { sc.e = sc.main }()
	sc.do(call{method: "GET", path: "/v1/ledger/pubkey", status: 503})
	sc.do(call{method: "GET", path: "/v1/ledger/checkpoint", secret: bare.platform, status: 503})
	if err := db.Close(); err != nil {
		sc.t.Fatal(err)
	}
	sc.do(call{method: "GET", path: "/readyz", status: 503})
}

type scenarioKeys struct{ admin, writer, reader, globex string }

const scenarioTrace = "5b8efff798038103d269b633813fc60c"

// scenarioEvents publishes, reads and exports events; it returns the id
// of an event with a trace id and a target.
func scenarioEvents(sc *specCheck, k scenarioKeys) string {
	one := event("invoice.refunded", "trace_id", `"`+scenarioTrace+`"`, "targets", `[{"type":"invoice","id":"in_1"}]`,
		"context", `{"ip":"203.0.113.7","user_agent":"curl/8"}`, "metadata", `{"amount":120}`)
	r := sc.do(call{method: "POST", path: "/v1/events", secret: k.writer, body: one, status: 201,
		headers: []string{"Idempotency-Key", "refund-1"}})
	id := decode[ingestResponse](sc.t, r).IDs[0]
	sc.do(call{method: "POST", path: "/v1/events", secret: k.writer, body: one, status: 201,
		headers: []string{"Idempotency-Key", "refund-1"}})
	sc.do(call{method: "POST", path: "/v1/events", secret: k.writer, body: event("user.created"), status: 422,
		headers: []string{"Idempotency-Key", "refund-1"}})
	sc.do(call{method: "POST", path: "/v1/events", secret: k.writer, status: 201,
		body: batch(event("user.created"), event("user.deleted", "targets", `[{"type":"user","id":"u2"}]`))})
	sc.do(call{method: "POST", path: "/v1/events", secret: k.writer, body: `{"action":"x"}`, status: 400, badRequest: true})
	sc.do(call{method: "POST", path: "/v1/events", secret: k.writer, status: 400, badRequest: true,
		body: event("user.created", "metadata", `{"pad":"`+strings.Repeat("x", trail.MaxEventBytes)+`"}`)})
	sc.do(call{method: "POST", path: "/v1/events", secret: k.writer, status: 413, badRequest: true,
		body: `{"events":[` + strings.Repeat(" ", trail.MaxBodyBytes) + `]}`})
	sc.do(call{method: "POST", path: "/v1/events", secret: k.reader, body: event("user.created"), status: 403})

	r = sc.do(call{method: "GET", path: "/v1/events?limit=1&action=user.*", secret: k.reader, status: 200})
	next := *decode[eventsPage](sc.t, r).NextCursor
	sc.do(call{method: "GET", path: "/v1/events?limit=1&action=user.*&cursor=" + next, secret: k.reader, status: 200})
	sc.do(call{method: "GET", path: "/v1/events?limit=0", secret: k.reader, status: 400, badRequest: true})
	sc.do(call{method: "GET", path: "/v1/events/" + id, secret: k.reader, status: 200})
	sc.do(call{method: "GET", path: "/v1/events/" + id, secret: k.globex, status: 404})
	sc.do(call{method: "GET", path: "/v1/targets/invoice/in_1/events", secret: k.reader, status: 200})
	sc.do(call{method: "GET", path: "/v1/targets/invoice/in_1/events?sort=nope", secret: k.reader, status: 400, badRequest: true})
	for _, format := range []string{"csv", "jsonl", "bundle"} {
		sc.do(call{method: "GET", path: "/v1/events/export?format=" + format, secret: k.reader, status: 200})
	}
	sc.do(call{method: "GET", path: "/v1/events/export", secret: k.reader, status: 400, badRequest: true})
	return id
}

func scenarioLedger(sc *specCheck, k scenarioKeys, id string) {
	testenv.Eventually(sc.t, 15*time.Second, "the ledger to seal the events", func() bool {
		return sc.e.do(sc.t, "GET", "/v1/events/"+id+"/proof", k.reader, "").status == 200
	})
	sc.do(call{method: "GET", path: "/v1/ledger/pubkey", status: 200})
	r := sc.do(call{method: "GET", path: "/v1/ledger/checkpoint", secret: k.reader, status: 200})
	if r.header.Get("Trail-Tree-Size") == "" {
		sc.t.Error("checkpoint without Trail-Tree-Size")
	}
	sc.do(call{method: "GET", path: "/v1/ledger/checkpoint?log=globex", secret: k.reader, status: 404})
	sc.do(call{method: "GET", path: "/v1/events/" + id + "/proof", secret: k.reader, status: 200})
	sc.do(call{method: "GET", path: "/v1/events/" + id + "/proof?tree_size=0", secret: k.reader, status: 400, badRequest: true})
	sc.do(call{method: "GET", path: "/v1/ledger/consistency?log=acme&from=1", secret: k.reader, status: 200})
	sc.do(call{method: "GET", path: "/v1/ledger/consistency?from=x", secret: k.reader, status: 400, badRequest: true})
	sc.do(call{method: "GET", path: "/v1/ledger/logs", secret: k.reader, status: 200})
	sc.do(call{method: "GET", path: "/v1/ledger/rows?log=acme&from=0", secret: k.reader, status: 200})
	sc.do(call{method: "GET", path: "/v1/ledger/rows?from=-1", secret: k.reader, status: 400, badRequest: true})
	sc.do(call{method: "GET", path: "/v1/ledger/tiles?log=acme&tile=0/0&tile=1/0", secret: k.reader, status: 200})
	sc.do(call{method: "GET", path: "/v1/ledger/tiles?tile=x", secret: k.reader, status: 400, badRequest: true})
	sc.do(call{method: "GET", path: "/v1/ledger/pruned?log=acme", secret: k.reader, status: 200})
	sc.do(call{method: "GET", path: "/v1/ledger/pruned?log=globex", secret: k.reader, status: 404})
	sc.do(call{method: "GET", path: "/v1/ledger/moved?log=acme", secret: k.reader, status: 200})
	sc.do(call{method: "GET", path: "/v1/ledger/moved?log=globex", secret: k.reader, status: 404})
}

func scenarioKeysAPI(sc *specCheck, k scenarioKeys) {
	r := sc.do(call{method: "POST", path: "/v1/keys", secret: k.admin, status: 201,
		body: `{"name":"billing","scopes":["events:write"],"expires_at":"2099-01-01T00:00:00Z"}`})
	kid := decode[struct{ ID string }](sc.t, r).ID
	sc.do(call{method: "POST", path: "/v1/keys", secret: k.admin, body: `{"name":"x","scopes":["root"]}`, status: 400, badRequest: true})
	sc.do(call{method: "GET", path: "/v1/keys", secret: k.admin, status: 200})
	sc.do(call{method: "DELETE", path: "/v1/keys/" + kid, secret: k.admin, status: 200})
	sc.do(call{method: "DELETE", path: "/v1/keys/" + kid, secret: k.globex, status: 404})
}

func scenarioUsers(sc *specCheck, k scenarioKeys) {
	sc.e.addUser(sc.t, "acme", "owner@example.com", trail.RoleOwner)
	u := sc.e.addUser(sc.t, "acme", "member@example.com", trail.RoleMember)
	sess, _ := trail.NewSession(u, trail.Context{}, time.Hour, time.Now())
	if err := sc.e.store.CreateSession(sc.t.Context(), sess); err != nil {
		sc.t.Fatal(err)
	}
	p := "/v1/users/" + u.ID
	sc.do(call{method: "GET", path: "/v1/users", secret: k.admin, status: 200})
	sc.do(call{method: "GET", path: "/v1/users?tenant=globex", secret: k.admin, status: 400})
	sc.do(call{method: "POST", path: "/v1/users", secret: k.admin, body: `{"email":"new@example.com","role":"member"}`, status: 201})
	sc.do(call{method: "POST", path: "/v1/users", secret: k.admin, body: `{"email":"new@example.com","role":"member"}`, status: 409})
	sc.do(call{method: "POST", path: "/v1/users", secret: k.admin, body: `{"email":"o2@example.com","role":"owner"}`, status: 403})
	sc.do(call{method: "GET", path: p, secret: k.admin, status: 200})
	sc.do(call{method: "GET", path: p, secret: k.globex, status: 404})
	sc.do(call{method: "PATCH", path: p, secret: k.admin, body: `{"role":"admin"}`, status: 200})
	sc.do(call{method: "PATCH", path: p, secret: k.admin, body: `{"role":"owner"}`, status: 403})
	sc.do(call{method: "POST", path: p + "/reset-password", secret: k.admin, status: 201})
	sc.do(call{method: "POST", path: p + "/reset-password", secret: k.globex, status: 404})
	sc.do(call{method: "GET", path: p + "/sessions", secret: k.admin, status: 200})
	sc.do(call{method: "GET", path: p + "/sessions", secret: k.globex, status: 404})
	sc.do(call{method: "DELETE", path: p + "/sessions/" + sess.ID, secret: k.admin, status: 204})
	sc.do(call{method: "DELETE", path: p + "/sessions/" + sess.ID, secret: k.admin, status: 404})
	sc.do(call{method: "DELETE", path: p, secret: k.admin, status: 204})
	sc.do(call{method: "DELETE", path: p, secret: k.admin, status: 404})
}

func scenarioForwarders(sc *specCheck, k scenarioKeys) {
	rc := newHook(sc.t)
	rc.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnprocessableEntity) // every delivery fails: dead letters
	})
	body := `{"name":"siem","kind":"webhook","uri":"` + rc.URL + `",
		"filter":{"actions":["audit.*"]},"retry":{"max_attempts":1},"start":"beginning"}`
	sc.do(call{method: "POST", path: "/v1/forwarders", secret: k.admin, body: body, status: 201})
	sc.do(call{method: "POST", path: "/v1/forwarders", secret: k.admin, body: body, status: 409})
	sc.do(call{method: "POST", path: "/v1/forwarders", secret: k.admin, body: `{"name":"x","kind":"fax"}`, status: 400, badRequest: true})
	sc.do(call{method: "POST", path: "/v1/events", secret: k.writer, body: event("audit.checked"), status: 201})
	testenv.Eventually(sc.t, 15*time.Second, "a dead letter", func() bool {
		return strings.Contains(string(sc.e.do(sc.t, "GET", "/v1/forwarders/siem/dead-letters", k.admin, "").body), "audit.checked")
	})
	sc.do(call{method: "GET", path: "/v1/forwarders", secret: k.admin, status: 200})
	sc.do(call{method: "GET", path: "/v1/forwarders/siem", secret: k.admin, status: 200})
	sc.do(call{method: "GET", path: "/v1/forwarders/siem", secret: k.globex, status: 404})
	sc.do(call{method: "PATCH", path: "/v1/forwarders/siem", secret: k.admin, body: `{"batch":{"size":10}}`, status: 200})
	sc.do(call{method: "PATCH", path: "/v1/forwarders/siem", secret: k.admin, body: `{"kind":"splunk"}`, status: 400})
	sc.do(call{method: "GET", path: "/v1/forwarders/siem/dead-letters?limit=10", secret: k.admin, status: 200})
	sc.do(call{method: "GET", path: "/v1/forwarders/siem/dead-letters?limit=0", secret: k.admin, status: 400, badRequest: true})
	sc.do(call{method: "POST", path: "/v1/forwarders/siem/dead-letters/replay", secret: k.admin, body: `{}`, status: 202})
	sc.do(call{method: "POST", path: "/v1/forwarders/nope/dead-letters/replay", secret: k.admin, status: 404})
	sc.do(call{method: "DELETE", path: "/v1/forwarders/siem", secret: k.admin, status: 204})
	sc.do(call{method: "DELETE", path: "/v1/forwarders/siem", secret: k.admin, status: 404})
}

const scenarioSchema = `{"metadata":{"type":"object","required":["plan"]}}`

func scenarioSchemas(sc *specCheck, k scenarioKeys) {
	sc.do(call{method: "POST", path: "/v1/actions/plan.changed/schemas", secret: k.admin, body: scenarioSchema, status: 201})
	sc.do(call{method: "POST", path: "/v1/actions/plan.changed/schemas", secret: k.admin, body: `{"metadata":7}`, status: 400, badRequest: true})
	sc.do(call{method: "GET", path: "/v1/actions", secret: k.reader, status: 200})
	sc.do(call{method: "GET", path: "/v1/actions?tenant=bad/tenant", secret: k.reader, status: 400, badRequest: true})
	sc.do(call{method: "GET", path: "/v1/actors?prefix=a&limit=5", secret: k.reader, status: 200})
	sc.do(call{method: "GET", path: "/v1/actors?limit=0", secret: k.reader, status: 400, badRequest: true})
	sc.do(call{method: "GET", path: "/v1/target-types", secret: k.reader, status: 200})
	sc.do(call{method: "GET", path: "/v1/target-types?tenant=bad/tenant", secret: k.reader, status: 400, badRequest: true})
	sc.do(call{method: "GET", path: "/v1/actions/plan.changed/schemas", secret: k.reader, status: 200})
	sc.do(call{method: "GET", path: "/v1/actions/plan.changed/schemas?tenant=bad/tenant", secret: k.reader, status: 400, badRequest: true})
	sc.do(call{method: "GET", path: "/v1/actions/plan.changed/schemas/1", secret: k.reader, status: 200})
	sc.do(call{method: "GET", path: "/v1/actions/plan.changed/schemas/9", secret: k.reader, status: 404})
	sc.do(call{method: "PUT", path: "/v1/validation", secret: k.admin, body: `{"mode":"enforce"}`, status: 200})
	sc.do(call{method: "PUT", path: "/v1/validation", secret: k.admin, body: `{"mode":"maybe"}`, status: 400, badRequest: true})
	sc.do(call{method: "POST", path: "/v1/events", secret: k.writer, body: event("plan.changed"), status: 400})
	sc.do(call{method: "GET", path: "/v1/validation", secret: k.admin, status: 200})
	sc.do(call{method: "GET", path: "/v1/validation?tenant=bad/tenant", secret: k.admin, status: 400, badRequest: true})
	sc.do(call{method: "PUT", path: "/v1/validation", secret: k.admin, body: `{"mode":"off"}`, status: 200})
}

func scenarioRetention(sc *specCheck, k scenarioKeys) {
	sc.do(call{method: "PUT", path: "/v1/retention", secret: k.admin, body: `{"days":400}`, status: 200})
	sc.do(call{method: "PUT", path: "/v1/retention", secret: k.admin, body: `{"days":0}`, status: 400, badRequest: true})
	sc.do(call{method: "GET", path: "/v1/retention", secret: k.admin, status: 200})
	sc.do(call{method: "GET", path: "/v1/retention?tenant=bad/tenant", secret: k.admin, status: 400, badRequest: true})
	sc.do(call{method: "POST", path: "/v1/retention/run", secret: k.admin, status: 200})
	sc.do(call{method: "POST", path: "/v1/retention/run?tenant=bad/tenant", secret: k.admin, status: 400, badRequest: true})
	r := sc.do(call{method: "POST", path: "/v1/holds", secret: k.admin, status: 201,
		body: `{"kind":"target","target_type":"user","target_id":"u9","reason":"case 12"}`})
	hid := decode[trail.Hold](sc.t, r).ID
	sc.do(call{method: "POST", path: "/v1/holds", secret: k.admin, status: 201,
		body: `{"kind":"time_range","since":"2026-01-01T00:00:00Z","until":"2026-02-01T00:00:00Z"}`})
	sc.do(call{method: "POST", path: "/v1/holds", secret: k.admin, body: `{"kind":"everything"}`, status: 400, badRequest: true})
	sc.do(call{method: "GET", path: "/v1/holds", secret: k.admin, status: 200})
	sc.do(call{method: "GET", path: "/v1/holds?tenant=bad/tenant", secret: k.admin, status: 400, badRequest: true})
	sc.do(call{method: "DELETE", path: "/v1/holds/" + hid, secret: k.admin, status: 200})
	sc.do(call{method: "DELETE", path: "/v1/holds/" + hid, secret: k.admin, status: 404})
}

func scenarioSSO(sc *specCheck, k scenarioKeys) {
	sc.do(call{method: "GET", path: "/v1/sso", secret: k.admin, status: 404})
	sc.do(call{method: "PUT", path: "/v1/sso", secret: k.admin, status: 201, body: `{"issuer":"https://login.example.com",
		"client_id":"trail","client_secret":"s3cret","allowed_domains":["acme.example"],"role_claim":"groups",
		"role_mapping":{"trail-admins":"admin"},"default_role":"member","create_users":true}`})
	sc.do(call{method: "PUT", path: "/v1/sso", secret: k.admin, status: 200,
		body: `{"issuer":"https://login.example.com","client_id":"trail","required":true}`})
	sc.do(call{method: "PUT", path: "/v1/sso", secret: k.admin, status: 400, badRequest: true,
		body: `{"issuer":"http://login.example.com","client_id":"trail"}`})
	sc.do(call{method: "GET", path: "/v1/sso", secret: k.admin, status: 200})
	sc.do(call{method: "GET", path: "/v1/sso?tenant=bad/tenant", secret: k.admin, status: 400, badRequest: true})
	sc.do(call{method: "DELETE", path: "/v1/sso", secret: k.admin, status: 204})
	sc.do(call{method: "DELETE", path: "/v1/sso", secret: k.admin, status: 404})
}

func scenarioMFA(sc *specCheck, k scenarioKeys) {
	sc.do(call{method: "GET", path: "/v1/settings/mfa", secret: k.admin, status: 200})
	sc.do(call{method: "PUT", path: "/v1/settings/mfa", secret: k.admin, body: `{"required":true}`, status: 403})
	sc.do(call{method: "PUT", path: "/v1/settings/mfa?tenant=acme", secret: sc.e.platform, body: `{"required":true}`, status: 200})
	sc.do(call{method: "PUT", path: "/v1/settings/mfa?tenant=acme", secret: sc.e.platform, body: `{"required":"yes"}`,
		status: 400, badRequest: true})
	sc.do(call{method: "GET", path: "/v1/settings/mfa?tenant=bad/tenant", secret: k.admin, status: 400, badRequest: true})
	sc.do(call{method: "PUT", path: "/v1/settings/mfa?tenant=acme", secret: sc.e.platform, body: `{"required":false}`, status: 200})
}

func scenarioAlerts(sc *specCheck, k scenarioKeys) {
	hits := newHook(sc.t)
	r := sc.do(call{method: "POST", path: "/v1/alerts/rules", secret: k.admin, status: 201,
		body: `{"name":"refunds","filter":{"actions":["refund.*"]},"condition":{"type":"any"},
			"webhook":{"url":"` + hits.URL + `","secret":"0123456789abcdef-secret"}}`})
	rid := decode[trail.AlertRule](sc.t, r).ID
	sc.do(call{method: "POST", path: "/v1/alerts/rules", secret: k.admin, status: 400, badRequest: true,
		body: `{"name":"x","condition":{"type":"any"},"webhook":{"url":"ftp://h/"}}`})
	sc.do(call{method: "POST", path: "/v1/events", secret: k.writer, body: event("refund.issued"), status: 201})
	testenv.Eventually(sc.t, 15*time.Second, "a firing", func() bool { return hits.count() > 0 })
	sc.do(call{method: "GET", path: "/v1/alerts/rules", secret: k.admin, status: 200})
	sc.do(call{method: "GET", path: "/v1/alerts/rules?tenant=bad/tenant", secret: k.admin, status: 400, badRequest: true})
	sc.do(call{method: "GET", path: "/v1/alerts/rules/" + rid, secret: k.admin, status: 200})
	sc.do(call{method: "GET", path: "/v1/alerts/rules/" + rid, secret: k.globex, status: 404})
	sc.do(call{method: "GET", path: "/v1/alerts/rules/" + rid + "/firings", secret: k.admin, status: 200})
	sc.do(call{method: "GET", path: "/v1/alerts/rules/" + rid + "/firings", secret: k.globex, status: 404})
	sc.do(call{method: "PATCH", path: "/v1/alerts/rules/" + rid, secret: k.admin, status: 200, body: `{"disabled":true}`})
	sc.do(call{method: "PATCH", path: "/v1/alerts/rules/" + rid, secret: k.admin, status: 400, badRequest: true, body: `{}`})
	sc.do(call{method: "PATCH", path: "/v1/alerts/rules/" + rid, secret: k.globex, status: 404, body: `{"disabled":false}`})
	sc.do(call{method: "DELETE", path: "/v1/alerts/rules/" + rid, secret: k.admin, status: 200})
	sc.do(call{method: "DELETE", path: "/v1/alerts/rules/" + rid, secret: k.admin, status: 404})
}

func scenarioLogs(sc *specCheck, k scenarioKeys, id string) {
	sc.do(call{method: "POST", path: "/v1/logs", secret: k.writer, status: 201,
		body: `{"logs":[{"trace_id":"` + scenarioTrace + `","level":"warn","message":"refund over limit","attributes":{"amount":120}}]}`})
	sc.do(call{method: "POST", path: "/v1/logs", secret: k.writer, body: `{"trace_id":"t","level":"loud"}`, status: 400, badRequest: true})
	sc.do(call{method: "POST", path: "/v1/otlp/logs", secret: k.writer, body: otlpJSON, status: 200,
		headers: []string{"Content-Type", "application/json"}})
	sc.do(call{method: "POST", path: "/v1/otlp/logs", secret: k.writer, body: otlpProtobuf(sc.t), status: 200,
		headers: []string{"Content-Type", "application/x-protobuf"}})
	sc.do(call{method: "POST", path: "/v1/otlp/logs", secret: k.writer, body: "{", status: 400, badRequest: true,
		headers: []string{"Content-Type", "application/json"}})
	sc.do(call{method: "POST", path: "/v1/otlp/logs", secret: k.writer, body: "x", status: 415, badRequest: true,
		headers: []string{"Content-Type", "text/plain"}})
	sc.do(call{method: "POST", path: "/v1/otlp/logs", body: "{}", status: 401, badRequest: true,
		headers: []string{"Content-Type", "application/json"}})
	sc.do(call{method: "GET", path: "/v1/events/" + id + "/logs?limit=1", secret: k.reader, status: 200})
	sc.do(call{method: "GET", path: "/v1/events/" + id + "/logs?cursor=zz", secret: k.reader, status: 400, badRequest: true})
}

func otlpProtobuf(t *testing.T) string {
	tid, _ := hex.DecodeString(scenarioTrace)
	b, err := proto.Marshal(&collogs.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{
		ScopeLogs: []*logspb.ScopeLogs{{LogRecords: []*logspb.LogRecord{{TraceId: tid}, {}}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var pathParam = regexp.MustCompile(`\{[a-z]+\}`)

// scenarioEveryRoute calls every route of the route table without a key,
// with a key that lacks the route's scope, and with a method the path does
// not serve: 401, 403 and 405 answers, checked like the others.
func scenarioEveryRoute(sc *specCheck, k scenarioKeys) {
	methods := map[string][]string{}
	for _, p := range sc.e.api.Routes() {
		method, path, _ := strings.Cut(p, " ")
		path = pathParam.ReplaceAllStringFunc(path, func(s string) string {
			switch s {
			case "{version}":
				return "1"
			case "{action}":
				return "user.created"
			}
			return "x"
		})
		methods[path] = append(methods[path], method)
		r := sc.e.do(sc.t, method, path, "", "")
		if r.status != http.StatusUnauthorized {
			continue // a public route
		}
		sc.do(call{method: method, path: path, status: 401, badRequest: true})
		for _, secret := range []string{k.reader, k.writer} {
			if got := sc.e.do(sc.t, method, path, secret, "").status; got == http.StatusForbidden {
				sc.do(call{method: method, path: path, secret: secret, status: 403, badRequest: true})
			}
		}
	}
	for path, served := range methods {
		for _, m := range []string{"PUT", "PATCH", "DELETE", "POST", "GET"} {
			if !slices.Contains(served, m) {
				r := sc.do(call{method: m, path: path, secret: k.admin, status: 405, badRequest: true})
				if r.header.Get("Allow") == "" {
					sc.t.Errorf("%s %s: 405 without Allow", m, path)
				}
				break
			}
		}
	}
	sc.do(call{method: "GET", path: "/v1/nothing", secret: k.admin, status: 404, badRequest: true})
}
