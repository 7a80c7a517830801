package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/trailhq/trail"
)

// readJSON reads r's body, at most limit bytes (readBody), and decodes it
// into v (decodeJSON).
func readJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	body, err := readBody(w, r, limit)
	if err != nil {
		return err
	}
	return decodeJSON(body, v)
}

// decodeJSON decodes a request body into v, rejecting unknown fields,
// repeated member names, trailing data, invalid UTF-8 and NUL characters; every problem names its
// field.
func decodeJSON(body []byte, v any) error {
	switch {
	case !utf8.Valid(body):
		return trail.Invalid("body", "not valid UTF-8")
	case bytes.IndexByte(body, 0) >= 0:
		return trail.Invalid("body", "contains a NUL byte")
	}
	// encoding/json takes the last of two members with one name and
	// matches names in any case; refuse both, naming the member's path.
	if field, problem := trail.CheckMembers(body, reflect.TypeOf(v)); problem != "" {
		return trail.Invalid(field, problem)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		return trail.Invalid("body", "must hold one JSON object and nothing after it")
	}
	var ute *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ute) && ute.Field != "":
		return trail.Invalid(ute.Field, "must be "+jsonKind(ute.Type))
	case errors.As(err, &ute):
		return trail.Invalid("body", "must be a JSON object")
	case errors.As(err, &se):
		return trail.Invalid("body", fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return trail.Invalid(name, "unknown field")
	default:
		return trail.Invalid("body", "malformed JSON: "+strings.TrimPrefix(err.Error(), "json: "))
	}
}

// jsonKind names what a field of Go type t must be in JSON.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "an array of " + strings.TrimPrefix(jsonKind(t.Elem()), "a ") + "s"
	case reflect.Int, reflect.Int64:
		return "an integer"
	default:
		return "an object"
	}
}
