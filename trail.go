// Package trail holds Trail's domain: audit events, their validation rules,
// queries over them, API keys, the application error type, the event
// codec, and the interfaces that the storage, HTTP and background packages
// implement.
//
// It imports the standard library and one module besides:
// github.com/go-json-experiment/json, the JSON v2 codec (the draft of
// encoding/json/v2), which reads and writes events several times faster
// than encoding/json while writing encoding/json's exact bytes. It imports
// no other Trail package, so that the Go client, every store and every
// adapter share one set of types, one set of rules and one codec.
// TestRootImports keeps this rule.
package trail

// Version is the Trail release, overridden at build time with
// -ldflags "-X github.com/trailhq/trail.Version=...".
var Version = "0.1.0-dev"
