package trail

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
)

// checkObject reports why raw, a syntactically valid JSON object, cannot be
// stored as metadata: a name used twice in one object, or an escaped lone
// UTF-16 surrogate. Both would make the ledger's canonical encoding
// (RFC 8785) ambiguous: two different inputs with one leaf hash. noDups
// skips the search for repeated names, when the decoder ruled them out.
func checkObject(raw []byte, noDups bool) string {
	if hasLoneSurrogate(raw) {
		return `contains an unpaired surrogate escape (\ud800-\udfff)`
	}
	if noDups {
		return ""
	}
	if name, ok := duplicateName(raw); ok {
		return "holds the name " + strconv.Quote(name) + " twice in one object"
	}
	return ""
}

// hasLoneSurrogate scans escapes in raw JSON for a high surrogate not
// followed by a low one, or a low surrogate on its own.
func hasLoneSurrogate(raw []byte) bool {
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		r, ok := escapedUnit(raw, i)
		switch {
		case !ok:
			i++ // skip the escaped character, so `\\ud800` is not an escape
		case 0xdc00 <= r && r <= 0xdfff:
			return true
		case 0xd800 <= r && r <= 0xdbff:
			lo, ok := escapedUnit(raw, i+6)
			if !ok || lo < 0xdc00 || lo > 0xdfff {
				return true
			}
			i += 11
		default:
			i += 5
		}
	}
	return false
}

// escapedUnit decodes the \uXXXX escape at raw[i:].
func escapedUnit(raw []byte, i int) (rune, bool) {
	if i+6 > len(raw) || raw[i] != '\\' || raw[i+1] != 'u' {
		return 0, false
	}
	n, err := strconv.ParseUint(string(raw[i+2:i+6]), 16, 16)
	return rune(n), err == nil
}

// duplicateName walks raw and returns the first name that appears twice in
// one object.
func duplicateName(raw []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	name, err := walkValue(dec)
	return name, err == errDuplicate
}

var errDuplicate = errors.New("duplicate name")

// walkValue reads one value from dec; it returns errDuplicate and the name
// when an object in it repeats a name.
func walkValue(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			t, err := dec.Token()
			if err != nil {
				return "", err
			}
			name, _ := t.(string)
			if seen[name] {
				return name, errDuplicate
			}
			seen[name] = true
			if name, err := walkValue(dec); err != nil {
				return name, err
			}
		}
	case json.Delim('['):
		for dec.More() {
			if name, err := walkValue(dec); err != nil {
				return name, err
			}
		}
	default:
		return "", nil
	}
	_, err = dec.Token() // the closing delimiter
	return "", err
}
