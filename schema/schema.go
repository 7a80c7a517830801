// Package schema compiles the JSON Schemas that admins register per action
// and checks events against them at ingest, for tenants that turned
// validation on. Validation uses github.com/santhosh-tekuri/jsonschema/v6
// (draft 2020-12 by default, formats asserted); a schema may not load
// anything from outside itself.
//
// Schemas are immutable versions: a change is version N+1, and an event
// names the version it follows, so old events stay readable.
package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"github.com/trailhq/trail"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// maxDetails bounds how many problems one rejected event reports.
const maxDetails = 20

// printer renders the library's error messages in English.
var printer = message.NewPrinter(language.English)

// Compiled is one version of an action's schemas, ready to check events.
type Compiled struct {
	Schema   *trail.ActionSchema
	metadata *jsonschema.Schema
	targets  map[string]*jsonschema.Schema
}

// Compile checks that every schema of s is a valid JSON Schema and compiles
// it. Problems name the part of s they are in: "metadata" or
// "targets.<type>".
func Compile(s *trail.ActionSchema) (*Compiled, error) {
	var p trail.Problems
	c := &Compiled{Schema: s, targets: map[string]*jsonschema.Schema{}}
	if s.Metadata != nil {
		c.metadata = compileOne("metadata", s.Metadata, &p)
	}
	types := make([]string, 0, len(s.Targets))
	for t := range s.Targets {
		types = append(types, t)
	}
	slices.Sort(types)
	for _, t := range types {
		if sch := compileOne("targets."+t, s.Targets[t], &p); sch != nil {
			c.targets[t] = sch
		}
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// noLoader refuses every URL: a registered schema is self-contained, and
// Trail never reads files or the network on behalf of one.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schemas may not load %s: inline it under $defs", url)
}

func compileOne(field string, raw json.RawMessage, p *trail.Problems) *jsonschema.Schema {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		p.Add(-1, field, "must be a JSON Schema object")
		return nil
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		p.Add(-1, field, "malformed JSON: "+err.Error())
		return nil
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(noLoader{})
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	const loc = "https://schemas.trail.invalid/action.json"
	if err := c.AddResource(loc, doc); err != nil {
		p.Add(-1, field, "not a valid JSON Schema: "+err.Error())
		return nil
	}
	sch, err := c.Compile(loc)
	if err != nil {
		p.Add(-1, field, "not a valid JSON Schema: "+compileProblem(err))
		return nil
	}
	return sch
}

// compileProblem turns a compile error into a message without the
// internal URL the schema was compiled under.
func compileProblem(err error) string {
	var sve *jsonschema.SchemaValidationError
	var ve *jsonschema.ValidationError
	if errors.As(err, &sve) && errors.As(sve.Err, &ve) {
		var msgs []string
		for _, l := range leaves(ve) {
			msgs = append(msgs, "at "+pointer(l.InstanceLocation)+": "+l.ErrorKind.LocalizedString(printer))
		}
		return strings.Join(msgs, "; ")
	}
	return strings.ReplaceAll(err.Error(), "https://schemas.trail.invalid/action.json", "schema")
}

func pointer(loc []string) string {
	if len(loc) == 0 {
		return "the top"
	}
	return "/" + strings.Join(loc, "/")
}

// leaves returns the errors at the bottom of a validation error tree: the
// concrete problems, without the groups (allOf, $ref, ...) above them.
func leaves(e *jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(e.Causes) == 0 {
		return []*jsonschema.ValidationError{e}
	}
	var out []*jsonschema.ValidationError
	for _, c := range e.Causes {
		out = append(out, leaves(c)...)
	}
	return out
}

// Check validates event e against c and adds a problem per mismatch, with
// the event's index in its batch and fields such as "metadata.plan" or
// "targets[0].metadata.seats".
func (c *Compiled) Check(index int, e *trail.Event, p *trail.Problems) {
	if c.metadata != nil {
		check(index, "metadata", c.metadata, e.Metadata, p)
	}
	for i, t := range e.Targets {
		if sch := c.targets[t.Type]; sch != nil {
			check(index, fmt.Sprintf("targets[%d].metadata", i), sch, t.Metadata, p)
		}
	}
}

func check(index int, field string, sch *jsonschema.Schema, raw json.RawMessage, p *trail.Problems) {
	if len(raw) == 0 {
		raw = json.RawMessage("{}") // absent metadata is an empty object
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		p.Add(index, field, "must be a JSON object")
		return
	}
	err = sch.Validate(doc)
	var ve *jsonschema.ValidationError
	if err == nil || !errors.As(err, &ve) {
		return
	}
	for n, l := range leaves(ve) {
		if n == maxDetails {
			p.Add(index, field, "more problems left out")
			return
		}
		addProblem(index, path(field, doc, l.InstanceLocation), l.ErrorKind, p)
	}
}

// addProblem adds the problem of one leaf error. Missing and unexpected
// properties name the property itself, like "metadata.plan: required".
func addProblem(index int, at string, k jsonschema.ErrorKind, p *trail.Problems) {
	switch k := k.(type) {
	case *kind.Required:
		for _, name := range k.Missing {
			p.Add(index, at+"."+name, "required")
		}
	case *kind.AdditionalProperties:
		for _, name := range k.Properties {
			p.Add(index, at+"."+name, "not allowed by the schema")
		}
	case *kind.FalseSchema:
		p.Add(index, at, "not allowed by the schema")
	default:
		p.Add(index, at, k.LocalizedString(printer))
	}
}

// path turns an instance location (JSON pointer tokens) into a field name
// under field: object keys joined with dots, array indexes in brackets.
func path(field string, doc any, loc []string) string {
	var b strings.Builder
	b.WriteString(field)
	v := doc
	for _, tok := range loc {
		switch cur := v.(type) {
		case []any:
			i, _ := strconv.Atoi(tok)
			b.WriteString("[" + tok + "]")
			if i >= 0 && i < len(cur) {
				v = cur[i]
			}
		case map[string]any:
			b.WriteString("." + tok)
			v = cur[tok]
		default:
			b.WriteString("." + tok)
		}
	}
	return b.String()
}
