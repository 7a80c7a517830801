// Package trail holds Trail's domain: audit events, their validation rules,
// queries over them, API keys, the application error type, and the
// interfaces that the storage, HTTP and background packages implement.
//
// It imports only the standard library so that the Go client, every store
// and every adapter share one set of types and one set of rules.
package trail

// Version is the Trail release, overridden at build time with
// -ldflags "-X github.com/trailhq/trail.Version=...".
var Version = "0.1.0-dev"
