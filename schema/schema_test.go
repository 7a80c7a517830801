package schema_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/schema"
)

func compile(t *testing.T, meta string, targets map[string]string) (*schema.Compiled, error) {
	t.Helper()
	s := &trail.ActionSchema{Action: "a.b", Version: 1, Metadata: json.RawMessage(meta)}
	if meta == "" {
		s.Metadata = nil
	}
	if targets != nil {
		s.Targets = map[string]json.RawMessage{}
		for k, v := range targets {
			s.Targets[k] = json.RawMessage(v)
		}
	}
	return schema.Compile(s)
}

func details(err error) []string {
	var te *trail.Error
	if !errors.As(err, &te) {
		return nil
	}
	var out []string
	for _, d := range te.Details {
		out = append(out, d.Field+": "+d.Problem)
	}
	return out
}

func TestCompileRejects(t *testing.T) {
	for _, tc := range []struct{ name, meta, target, field string }{
		{"WrongType", `{"type":"nope"}`, "", "metadata"},
		{"NotAnObject", `[1]`, "", "metadata"},
		{"RemoteRef", `{"$ref":"https://example.com/x.json"}`, "", "metadata"},
		{"FileRef", `{"$ref":"file:///etc/passwd"}`, "", "metadata"},
		{"RelativeRef", `{"$ref":"other.json"}`, "", "metadata"},
		{"BadPattern", `{"pattern":"("}`, "", "metadata"},
		{"BadTarget", `{"type":"object"}`, `{"minimum":"x"}`, "targets.team"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var targets map[string]string
			if tc.target != "" {
				targets = map[string]string{"team": tc.target}
			}
			_, err := compile(t, tc.meta, targets)
			got := details(err)
			if len(got) != 1 || !strings.HasPrefix(got[0], tc.field+": ") || !strings.Contains(got[0], "JSON Schema") {
				t.Fatalf("details = %q, want one naming %s", got, tc.field)
			}
		})
	}
}

func TestCheckPaths(t *testing.T) {
	c, err := compile(t, `{"type":"object","required":["plan"],"additionalProperties":false,
		"properties":{"plan":{"enum":["free","pro"]},"email":{"format":"email"},
		"items":{"type":"array","items":{"type":"object","required":["sku"],"properties":{"qty":{"type":"integer"}}}},
		"a.b":{"type":"string"}}}`, map[string]string{"team": `{"required":["region"]}`})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, meta, targets string
		want                []string
	}{
		{"Valid", `{"plan":"pro","items":[{"sku":"x","qty":2}]}`, `[{"type":"team","id":"t","metadata":{"region":"eu"}}]`, nil},
		{"Absent", ``, `[]`, []string{"metadata.plan: required"}},
		{"Enum", `{"plan":"gold"}`, `[]`, []string{`metadata.plan: value must be one of 'free', 'pro'`}},
		{"Format", `{"plan":"pro","email":"not an address"}`, `[]`, []string{"metadata.email: "}},
		{"ArrayItem", `{"plan":"pro","items":[{"sku":"x"},{"qty":"two"}]}`, `[]`,
			[]string{"metadata.items[1].sku: required", "metadata.items[1].qty: "}},
		{"Extra", `{"plan":"pro","secret":1}`, `[]`, []string{"metadata.secret: not allowed by the schema"}},
		{"Target", `{"plan":"pro"}`, `[{"type":"user","id":"u"},{"type":"team","id":"t"}]`, []string{"targets[1].metadata.region: required"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &trail.Event{Metadata: json.RawMessage(tc.meta)}
			if tc.meta == "" {
				e.Metadata = nil
			}
			if err := json.Unmarshal([]byte(tc.targets), &e.Targets); err != nil {
				t.Fatal(err)
			}
			var p trail.Problems
			c.Check(3, e, &p)
			got := details(p.Err())
			if len(got) != len(tc.want) {
				t.Fatalf("problems = %q, want %q", got, tc.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) || *p[i].Index != 3 {
					t.Errorf("problem %d = %q (index %d), want prefix %q", i, got[i], *p[i].Index, tc.want[i])
				}
			}
		})
	}
}

func TestCheckBoundsDetails(t *testing.T) {
	c, err := compile(t, `{"additionalProperties":{"type":"string"}}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]int{}
	for i := range 50 {
		m[strings.Repeat("k", i+1)] = i
	}
	b, _ := json.Marshal(m)
	var p trail.Problems
	c.Check(0, &trail.Event{Metadata: b}, &p)
	if len(p) > 25 || len(p) < 20 {
		t.Fatalf("%d problems for 50 bad properties, want about 20 and a note", len(p))
	}
}
