package httpapi_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	liberrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
	"github.com/trailhq/trail/httpapi"
)

// specCheck sends requests to a running API and checks each request and
// answer against the OpenAPI document with a third-party validator
// (pb33f/libopenapi-validator), recording which routes were exercised.
type specCheck struct {
	t *testing.T
	// e is the server requests go to; main the one the scenario started.
	e, main *env
	v       validator.Validator
	model   *v3.Document
	// mux holds every route of the route table, to learn which route a
	// request reaches the way the server does.
	mux *http.ServeMux
	// ok and failed record the routes that answered a success and an
	// error, by route pattern.
	ok, failed map[string]bool
}

// newSpecCheck parses the embedded document, validates the document itself
// against the OpenAPI 3.1 specification, and builds a validator from it.
func newSpecCheck(t *testing.T, e *env) *specCheck {
	t.Helper()
	doc, err := libopenapi.NewDocument(httpapi.OpenAPI())
	if err != nil {
		t.Fatalf("parse openapi.json: %v", err)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		t.Fatalf("build the OpenAPI model: %v", err)
	}
	v, errs := validator.NewValidator(doc, config.WithStrictMode(), config.WithFormatAssertions(),
		config.WithStrictIgnoredHeadersExtra("X-Request-Id", "X-Content-Type-Options", "Content-Disposition", "Idempotent-Replayed", "Idempotency-Key", "Allow", "Retry-After", "Trail-Tree-Size"),
		// Free-form objects: what clients put in metadata, attributes and
		// OTLP bodies, the JSON Schemas of action schemas, and the OpenAPI
		// document itself (** spans any depth, dots and brackets included).
		config.WithStrictIgnorePaths("$.body**.metadata**", "$.body**.role_mapping**", "$.body**.attributes**", "$.body**.resource**",
			"$.body**.targets.**", "$.body**.filters**", "$.body.resourceLogs**",
			"$.body.info**", "$.body.paths**", "$.body.components**"))
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		t.Errorf("openapi.json is not a valid OpenAPI document:\n%s", describe(verrs))
	}
	c := &specCheck{t: t, e: e, main: e, v: v, model: &model.Model, mux: http.NewServeMux(),
		ok: map[string]bool{}, failed: map[string]bool{}}
	for _, p := range e.api.Routes() {
		c.mux.HandleFunc(p, func(http.ResponseWriter, *http.Request) {})
	}
	return c
}

func describe(errs []*liberrors.ValidationError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "  - %s: %s", e.Message, e.Reason)
		for _, se := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n      %s at %s (%s)", se.Reason, se.KeywordLocation, se.FieldPath)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// call is one request of the scenario.
type call struct {
	method, path, secret, body string
	headers                    []string
	status                     int
	// badRequest marks a request that breaks the document on purpose (a
	// malformed parameter or body, no key): only its answer is checked.
	badRequest bool
}

// do sends c, fails unless the answer has c.status, checks the request
// (unless c.badRequest) and the answer against the document, and returns
// the answer.
func (sc *specCheck) do(c call) *response {
	t := sc.t
	t.Helper()
	r := sc.e.do(t, c.method, c.path, c.secret, c.body, c.headers...)
	what := c.method + " " + c.path
	if r.status != c.status {
		t.Fatalf("%s: status %d, want %d; body: %.300s", what, r.status, c.status, r.body)
	}
	req := sc.request(c)
	_, pattern := sc.mux.Handler(req)
	switch {
	case r.status == http.StatusMethodNotAllowed:
		sc.checkComponent(what, r, "MethodNotAllowed")
		for _, p := range sc.e.api.Routes() { // an error answer of every route of the path
			if _, path, _ := strings.Cut(p, " "); sc.samePath(path, req.URL.Path) {
				sc.failed[p] = true
			}
		}
		return r
	case pattern == "":
		sc.checkComponent(what, r, "NotFound")
		return r
	}
	if r.status < 400 {
		sc.ok[pattern] = true
	} else {
		sc.failed[pattern] = true
	}
	if !c.badRequest {
		if ok, errs := sc.v.ValidateHttpRequestSync(sc.request(c)); !ok {
			t.Errorf("%s: the request breaks the document:\n%s", what, describe(errs))
		}
	}
	resp := &http.Response{StatusCode: r.status, Header: r.header, Body: io.NopCloser(bytes.NewReader(r.body)),
		Request: req}
	if ok, errs := sc.v.ValidateHttpResponse(sc.request(c), resp); !ok {
		t.Errorf("%s: the %d answer breaks the document:\n%s\nbody: %.500s", what, r.status, describe(errs), r.body)
	}
	if ct := r.header.Get("Content-Type"); strings.HasPrefix(ct, "application/jsonl") && r.status == 200 {
		sc.checkJSONLines(what, c.path, r.body)
	}
	return r
}

// samePath reports whether the route path pattern matches path.
func (sc *specCheck) samePath(pattern, path string) bool {
	mux := http.NewServeMux()
	mux.HandleFunc(pattern, func(http.ResponseWriter, *http.Request) {})
	_, got := mux.Handler(httptest.NewRequest("GET", path, nil))
	return got != ""
}

// request rebuilds c as the *http.Request the validator reads.
func (sc *specCheck) request(c call) *http.Request {
	req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
	if c.secret != "" {
		req.Header.Set("Authorization", "Bearer "+c.secret)
	}
	if c.body != "" && !slices.Contains(c.headers, "Content-Type") {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(c.headers); i += 2 {
		req.Header.Set(c.headers[i], c.headers[i+1])
	}
	return req
}

// checkComponent checks an answer that no operation can declare (no
// route, or a method the path does not serve) against a shared response of
// the document's components.
func (sc *specCheck) checkComponent(what string, r *response, name string) {
	t := sc.t
	t.Helper()
	resp := sc.model.Components.Responses.GetOrZero(name)
	if resp == nil {
		t.Fatalf("%s: the document has no components.responses.%s", what, name)
	}
	mt := resp.Content.GetOrZero(r.header.Get("Content-Type"))
	if mt == nil {
		t.Fatalf("%s: components.responses.%s has no content %q", what, name, r.header.Get("Content-Type"))
	}
	sc.checkSchema(what, mt.Schema.Schema(), r.body)
	for h := resp.Headers.First(); h != nil; h = h.Next() {
		if h.Value().Required && r.header.Get(h.Key()) == "" {
			t.Errorf("%s: no %s header, which components.responses.%s requires", what, h.Key(), name)
		}
	}
}

func (sc *specCheck) checkSchema(what string, schema *base.Schema, body []byte) {
	sc.t.Helper()
	if ok, errs := schema_validation.NewSchemaValidator().ValidateSchemaBytesWithVersion(schema, body, 3.1); !ok {
		sc.t.Errorf("%s: %.200s breaks the schema:\n%s", what, body, describe(errs))
	}
}

// checkJSONLines checks each line of a JSON Lines answer: OpenAPI 3.1 has
// no way to give a schema to each line (3.2's itemSchema does), so the
// document names it in the media type's x-item-schema, and this checks it:
// Event for format=jsonl, BundleLine for format=bundle.
func (sc *specCheck) checkJSONLines(what, path string, body []byte) {
	sc.t.Helper()
	name := "Event"
	if strings.Contains(path, "format=bundle") {
		name = "BundleLine"
	}
	item := sc.model.Components.Schemas.GetOrZero(name)
	if item == nil {
		sc.t.Fatalf("%s: the document has no components.schemas.%s", what, name)
	}
	sc.checkLines(what, item.Schema(), body)
}

func (sc *specCheck) checkLines(what string, schema *base.Schema, body []byte) {
	sc.t.Helper()
	s := bufio.NewScanner(bytes.NewReader(body))
	s.Buffer(nil, 16<<20)
	n := 0
	for s.Scan() {
		n++
		sc.checkSchema(fmt.Sprintf("%s line %d", what, n), schema, s.Bytes())
	}
	if n == 0 {
		sc.t.Errorf("%s: no lines", what)
	}
}

// requireCoverage fails the test for every route of the route table that
// the scenario did not exercise with a success and with an error, so that
// a new route cannot go unchecked.
func (sc *specCheck) requireCoverage() {
	for _, p := range sc.e.api.Routes() {
		if !sc.ok[p] {
			sc.t.Errorf("route %q has no successful call in the OpenAPI scenario", p)
		}
		if !sc.failed[p] {
			sc.t.Errorf("route %q has no error call in the OpenAPI scenario", p)
		}
	}
}

// TestOpenAPIDeclaresErrors checks that every operation declares the error
// answers any client of it can meet: with a key, 400, 401, 403, 429 and
// 503 (with Retry-After); with a body, 413.
func TestOpenAPIDeclaresErrors(t *testing.T) {
	doc, err := libopenapi.NewDocument(httpapi.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		t.Fatal(err)
	}
	for p := model.Model.Paths.PathItems.First(); p != nil; p = p.Next() {
		for o := p.Value().GetOperations().First(); o != nil; o = o.Next() {
			op, name := o.Value(), strings.ToUpper(o.Key())+" "+p.Key()
			var want []string
			if apiKeyRoute(op) {
				want = append(want, "400", "401", "403", "429", "503")
			}
			if op.RequestBody != nil {
				want = append(want, "413")
			}
			for _, code := range want {
				resp := op.Responses.Codes.GetOrZero(code)
				switch {
				case resp == nil:
					t.Errorf("%s declares no %s answer", name, code)
				case (code == "429" || code == "503") && resp.Headers.GetOrZero("Retry-After") == nil:
					t.Errorf("%s: its %s answer declares no Retry-After", name, code)
				}
			}
		}
	}
}

// apiKeyRoute reports whether op takes an API key (the document's default).
func apiKeyRoute(op *v3.Operation) bool {
	if op.Security == nil {
		return true
	}
	for _, req := range op.Security {
		if req.Requirements.GetOrZero("bearerAuth") != nil {
			return true
		}
	}
	return false
}
