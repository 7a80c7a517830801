package console

import (
	"context"
	"errors"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"

	"github.com/trailhq/trail"
)

type queryKey struct{}

// strictForms parses every request's query string, and the body of every
// URL-encoded form, with trail.ParseQueryString before a handler sees
// them. net/url drops the pairs it cannot parse (one with a raw ';') and
// goes on, which would read "action=x;" as no filter at all; here such a
// request is a 400 page that names the parameter. The parsed form is set
// as r.PostForm and r.Form, so r.PostFormValue reads the strict parse.
func (s *Server) strictForms(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, err := s.parseStrict(w, r)
		if err != nil {
			v, _ := s.viewer(r)
			s.errorPage(w, r, v, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), queryKey{}, q)))
	})
}

// parseStrict parses r's query, and the body of a URL-encoded form, as
// strictForms describes; it returns the query.
func (s *Server) parseStrict(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	q, err := trail.ParseQueryString(r.URL.RawQuery)
	if err != nil {
		return nil, err
	}
	if r.Method == http.MethodPost && isURLEncoded(r) {
		return q, s.parsePostForm(w, r, q)
	}
	return q, nil
}

func isURLEncoded(r *http.Request) bool {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && ct == "application/x-www-form-urlencoded"
}

// parsePostForm reads r's form body strictly into r.PostForm, and r.Form
// as net/http would: the body's values first, then the query's.
func (s *Server) parsePostForm(w http.ResponseWriter, r *http.Request, q url.Values) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBytes))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return trail.Errorf(trail.ETOOLARGE, "form: larger than %d bytes", maxFormBytes)
	case err != nil:
		return trail.Invalid("form", "could not be read")
	}
	post, err := trail.ParseQueryString(string(body))
	if err != nil {
		return err
	}
	if err := checkRepeats(post); err != nil {
		return err
	}
	form := make(url.Values, len(post)+len(q))
	for _, v := range []url.Values{post, q} {
		for k, vals := range v {
			form[k] = append(form[k], vals...)
		}
	}
	r.PostForm, r.Form = post, form
	return nil
}

// formLists are the form fields that may be given more than once: the
// key form's scope checkboxes, the export form's actions and the audit
// table's column chooser.
var formLists = []string{"scopes", "action", "col"}

// checkRepeats refuses a form field given more than once (but formLists):
// r.PostFormValue reads the first value, another reader might take the
// last, and one body must not be read two ways.
func checkRepeats(post url.Values) error {
	var p trail.Problems
	for _, name := range slices.Sorted(maps.Keys(post)) {
		if len(post[name]) > 1 && !slices.Contains(formLists, name) {
			p.Add(-1, name, "given more than once")
		}
	}
	return p.Err()
}

// query returns r's query parameters as strictForms parsed them. routes
// puts every page behind strictForms; a handler reached any other way is
// a bug, and panics rather than read a query unchecked.
func query(r *http.Request) url.Values {
	v, ok := r.Context().Value(queryKey{}).(url.Values)
	if !ok {
		panic("console: query read without strictForms")
	}
	return v
}
