package trail

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// encoding/json reads a member name twice with the last one winning, and
// matches names to fields without regard to case ("ACTION" sets Action).
// So two parsers can read one body differently: the ingest's fast path
// (decode.go) refuses such a body, a store's or an auditor's parser may
// read it otherwise. CheckMembers refuses both before encoding/json sees a
// body, and names the member by its full path ("actor.foo",
// "targets[1].type"), which encoding/json's unknown-field error does not.

// Problems CheckMembers reports.
const (
	ProblemRepeatedName = "repeated member name"
	ProblemUnknownField = "unknown field"
)

// CheckMembers walks raw, one JSON value, against the Go type t it is to
// be decoded into (a struct, slice, map or pointer to one), and returns
// the path and problem of the first member that repeats a name in its
// object, or that names no field of a struct exactly. Members of maps,
// interfaces and json.RawMessage fields may have any names but not repeat
// them. It returns "", "" for a body it cannot read: the decoder then says
// what is wrong with it.
func CheckMembers(raw []byte, t reflect.Type) (field, problem string) {
	return checkMembers(raw, t, false)
}

// checkMembers is CheckMembers; with skipRaw, json.RawMessage values are
// not walked (event metadata has its own check, validateObject).
func checkMembers(raw []byte, t reflect.Type, skipRaw bool) (field, problem string) {
	if !json.Valid(raw) {
		return "", "" // a syntax error comes first, as the decoder reports it
	}
	w := memberWalker{dec: json.NewDecoder(bytes.NewReader(raw)), skipRaw: skipRaw}
	w.dec.UseNumber()
	w.value(t, "") // a read error leaves field and problem empty
	return w.field, w.problem
}

type memberWalker struct {
	dec            *json.Decoder
	skipRaw        bool
	field, problem string
}

// walkStop stops the walk at the first problem.
type walkStop struct{}

func (walkStop) Error() string { return "stop" }

var (
	rawMessageType = reflect.TypeFor[json.RawMessage]()
	unmarshalers   = []reflect.Type{reflect.TypeFor[json.Unmarshaler](), reflect.TypeFor[encoding.TextUnmarshaler]()}
)

// value walks one value that decodes into t; nil t is any value.
func (w *memberWalker) value(t reflect.Type, path string) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && (t == rawMessageType || implementsAny(t)) {
		if t == rawMessageType && w.skipRaw {
			var skip json.RawMessage
			return w.dec.Decode(&skip)
		}
		t = nil
	}
	tok, err := w.dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		if t != nil && t.Kind() == reflect.Struct {
			return w.object(path, structFields(t).get)
		}
		var elem reflect.Type
		if t != nil && t.Kind() == reflect.Map {
			elem = t.Elem()
		}
		return w.object(path, func(string) (reflect.Type, bool) { return elem, true })
	case json.Delim('['):
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; w.dec.More(); i++ {
			if err := w.value(elem, path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
		_, err = w.dec.Token()
		return err
	}
	return nil
}

// object walks the members of an object whose '{' was read; field gives
// the type of a member's value and whether the name is known.
func (w *memberWalker) object(path string, field func(string) (reflect.Type, bool)) error {
	seen := map[string]bool{}
	for w.dec.More() {
		tok, err := w.dec.Token()
		if err != nil {
			return err
		}
		name, _ := tok.(string)
		sub := shownName(name)
		if path != "" {
			sub = path + "." + sub
		}
		t, known := field(name)
		switch {
		case seen[name]:
			w.field, w.problem = sub, ProblemRepeatedName
			return walkStop{}
		case !known:
			w.field, w.problem = sub, ProblemUnknownField
			return walkStop{}
		}
		seen[name] = true
		if err := w.value(t, sub); err != nil {
			return err
		}
	}
	_, err := w.dec.Token()
	return err
}

// shownName is a member name as an error shows it: quoted when it is
// empty, long or not printable, so that a hostile name cannot pass for
// another field or break the message.
func shownName(name string) string {
	if name == "" || len(name) > 64 || !utf8.ValidString(name) || !printable(name) || strings.ContainsAny(name, `."[]`) {
		return fmt.Sprintf("%.64q", name)
	}
	return name
}

func implementsAny(t reflect.Type) bool {
	for _, u := range unmarshalers {
		if t.Implements(u) || reflect.PointerTo(t).Implements(u) {
			return true
		}
	}
	return false
}

// fieldSet maps the exact JSON names of a struct's fields to their types.
type fieldSet map[string]reflect.Type

func (f fieldSet) get(name string) (reflect.Type, bool) {
	t, ok := f[name]
	return t, ok
}

var fieldSets sync.Map // reflect.Type -> fieldSet

// structFields returns the JSON names of t's fields as encoding/json
// decodes them, embedded structs' fields included.
func structFields(t reflect.Type) fieldSet {
	if f, ok := fieldSets.Load(t); ok {
		return f.(fieldSet)
	}
	f := fieldSet{}
	addFields(f, t)
	fieldSets.Store(t, f)
	return f
}

func addFields(f fieldSet, t reflect.Type) {
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if sf.Anonymous && name == "" {
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				addFields(f, ft)
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		f[name] = sf.Type
	}
}
