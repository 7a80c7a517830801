package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/trailhq/trail"
)

// Actions that `trail keys` records about itself.
const (
	ActionKeyCreated = "api_key.created"
	ActionKeyRevoked = "api_key.revoked"
)

const keysUsage = `Usage:
  trail keys create (--tenant NAME | --platform) --scopes SCOPES [--name NAME] [--expires WHEN] [--output text|json]
  trail keys list [--tenant NAME] [--output text|json]
  trail keys revoke [--output text|json] KEY_ID

The keys commands work directly on the store in the data folder (--data,
TRAIL_DATA), also while the server runs. They accept every setting of
trail serve, so --config finds the same store.
`

// runKeys runs `trail keys create|list|revoke`.
func runKeys(ctx context.Context, env *Env, args []string) error {
	return runGroup(ctx, env, "keys", keysUsage, args, []command{
		{"create", "create a key", keysCreate},
		{"list", "list keys", keysList},
		{"revoke", "revoke a key", keysRevoke},
	})
}

// keysFlags are the flags every keys subcommand shares.
type keysFlags struct {
	fs     *flag.FlagSet
	cf     *configFlags
	output *string
}

func newKeysFlags(env *Env, name string) *keysFlags {
	fs := flag.NewFlagSet("trail keys "+name, flag.ContinueOnError)
	kf := &keysFlags{fs: fs}
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprint(env.Stderr, keysUsage, "\nFlags of trail keys "+name+":\n")
		kf.cf.usage(env.Stderr, "data", "store")
	}
	kf.cf = addConfigFlags(fs)
	kf.output = fs.String("output", "text", "output `format`: text or json")
	return kf
}

// parse parses args and opens the store; the caller closes it.
func (kf *keysFlags) parse(env *Env, args []string) ([]string, trail.Store, error) {
	pos, err := parseFlags(kf.fs, args)
	if err != nil {
		return nil, nil, err
	}
	if *kf.output != "text" && *kf.output != "json" {
		return nil, nil, usageErrorf("--output: %q is not text or json", *kf.output)
	}
	cfg, err := kf.cf.load(env.Getenv)
	if err != nil {
		return nil, nil, err
	}
	s, err := openExistingStore(cfg)
	return pos, s, err
}

func keysCreate(ctx context.Context, env *Env, args []string) error {
	kf := newKeysFlags(env, "create")
	tenant := kf.fs.String("tenant", "", "the key's tenant (organization)")
	platform := kf.fs.Bool("platform", false, "make a platform key: any tenant, and system events")
	scopes := kf.fs.String("scopes", "", "comma-separated `scopes`: events:write, events:read, admin")
	name := kf.fs.String("name", "", "a label for the key")
	expires := kf.fs.String("expires", "", "expiry: a duration from now (720h, 90d) or an RFC 3339 time")
	pos, s, err := kf.parse(env, args)
	if err != nil {
		return err
	}
	defer s.Close()
	if len(pos) > 0 {
		return usageErrorf("keys create: unexpected argument %q", pos[0])
	}
	now := time.Now()
	exp, err := parseWhen(*expires, now, +1)
	if err != nil {
		return usageErrorf("--expires: %v", err)
	}
	k, secret, err := trail.NewAPIKey(*name, *tenant, *platform, splitList(*scopes), exp, now)
	if err != nil {
		return keyFlagError(err)
	}
	if err := createKey(ctx, s, cliOrigin(env, "trail keys"), k, now); err != nil {
		return err
	}
	if *kf.output == "json" {
		return json.NewEncoder(env.Stdout).Encode(struct {
			ID     string `json:"id"`
			Secret string `json:"secret"`
		}{k.ID, secret})
	}
	printCreated(env.Stdout, k, secret)
	return nil
}

// createKey stores k and records api_key.created. If the audit event
// cannot be stored, the key is revoked again: no usable key exists without
// its record.
func createKey(ctx context.Context, s trail.Store, o origin, k *trail.APIKey, now time.Time) error {
	if err := s.CreateKey(ctx, k); err != nil {
		return fmt.Errorf("create key: %w", err)
	}
	if err := recordKeyEvent(ctx, s, o, ActionKeyCreated, k, now); err != nil {
		rerr := s.RevokeKey(ctx, trail.Scope{All: true}, k.ID, now)
		return errors.Join(fmt.Errorf("record %s (the key was revoked again): %w", ActionKeyCreated, err), rerr)
	}
	return nil
}

// recordKeyEvent appends Trail's own audit event about k, in k's tenant
// (system events for platform keys), straight into the store, naming o as
// who did it. The event matches what the HTTP API records for the same
// action.
func recordKeyEvent(ctx context.Context, s trail.Store, o origin, action string, k *trail.APIKey, now time.Time) error {
	e := o.event(k.Tenant, action, now,
		trail.Target{Type: trail.ActorAPIKey, ID: k.ID, Name: k.Name})
	if action == ActionKeyCreated {
		// A map of plain values always encodes.
		e.Metadata, _ = json.Marshal(map[string]any{"scopes": k.Scopes, "platform": k.Platform})
	}
	return s.AppendBatches(ctx, []*trail.Batch{{Events: []*trail.Event{e}}})
}

func printCreated(w io.Writer, k *trail.APIKey, secret string) {
	owner := "tenant " + k.Tenant
	if k.Platform {
		owner = "platform key"
	}
	fmt.Fprintf(w, "Created API key %s (%s; scopes %s", k.ID, owner, strings.Join(k.Scopes, ","))
	if !k.ExpiresAt.IsZero() {
		fmt.Fprintf(w, "; expires %s", k.ExpiresAt.Format(time.RFC3339))
	}
	fmt.Fprintf(w, ").\n\nSecret (shown only this once; store it now):\n\n    %s\n\n", secret)
	fmt.Fprintf(w, "Send it as the header:  Authorization: Bearer %s\n", secret)
}

// keyFlagError turns the domain's field names into the flag names of the
// command line.
func keyFlagError(err error) error {
	var te *trail.Error
	if !errors.As(err, &te) || len(te.Details) == 0 {
		return err
	}
	msgs := make([]string, len(te.Details))
	for i, d := range te.Details {
		field := strings.ReplaceAll(d.Field, "expires_at", "expires")
		msgs[i] = "--" + field + ": " + d.Problem
	}
	return usageErrorf("%s", strings.Join(msgs, "; "))
}

func keysList(ctx context.Context, env *Env, args []string) error {
	kf := newKeysFlags(env, "list")
	tenant := kf.fs.String("tenant", "", "list only this tenant's keys")
	pos, s, err := kf.parse(env, args)
	if err != nil {
		return err
	}
	defer s.Close()
	if len(pos) > 0 {
		return usageErrorf("keys list: unexpected argument %q", pos[0])
	}
	scope := trail.Scope{All: true}
	if *tenant != "" {
		scope = trail.Scope{Tenant: *tenant}
	}
	keys, err := s.Keys(ctx, scope)
	if err != nil {
		return fmt.Errorf("list keys: %w", err)
	}
	if *kf.output == "json" {
		if keys == nil {
			keys = []*trail.APIKey{}
		}
		return json.NewEncoder(env.Stdout).Encode(map[string]any{"keys": keys})
	}
	printKeys(env.Stdout, keys, time.Now())
	return nil
}

func printKeys(w io.Writer, keys []*trail.APIKey, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tTENANT\tSCOPES\tCREATED\tSTATUS")
	for _, k := range keys {
		tenant := k.Tenant
		if k.Platform {
			tenant = "(platform)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, dash(k.Name), tenant,
			strings.Join(k.Scopes, ","), k.CreatedAt.Format(time.RFC3339), keyStatus(k, now))
	}
	tw.Flush()
}

func keyStatus(k *trail.APIKey, now time.Time) string {
	switch {
	case !k.RevokedAt.IsZero():
		return "revoked " + k.RevokedAt.Format(time.RFC3339)
	case !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt):
		return "expired " + k.ExpiresAt.Format(time.RFC3339)
	case !k.ExpiresAt.IsZero():
		return "active until " + k.ExpiresAt.Format(time.RFC3339)
	default:
		return "active"
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func keysRevoke(ctx context.Context, env *Env, args []string) error {
	kf := newKeysFlags(env, "revoke")
	pos, s, err := kf.parse(env, args)
	if err != nil {
		return err
	}
	defer s.Close()
	if len(pos) != 1 {
		return usageErrorf("keys revoke needs exactly one key id, like: trail keys revoke k_0123456789abcdef0123")
	}
	k, err := s.Key(ctx, pos[0])
	if trail.ErrorCode(err) == trail.ENOTFOUND {
		return fmt.Errorf("revoke: no API key %q in this store (see trail keys list)", pos[0])
	} else if err != nil {
		return fmt.Errorf("revoke key %s: %w", pos[0], err)
	}
	if k.RevokedAt.IsZero() {
		if err := revokeKey(ctx, s, cliOrigin(env, "trail keys"), k, time.Now()); err != nil {
			return err
		}
	}
	if *kf.output == "json" {
		return json.NewEncoder(env.Stdout).Encode(k)
	}
	fmt.Fprintf(env.Stdout, "Revoked API key %s at %s.\n", k.ID, k.RevokedAt.Format(time.RFC3339))
	return nil
}

// revokeKey records api_key.revoked, then revokes k: a failure in between
// leaves a record of a revocation that a retry completes, never a
// revocation without its record.
func revokeKey(ctx context.Context, s trail.Store, o origin, k *trail.APIKey, now time.Time) error {
	now = trail.NormalTime(now)
	if err := recordKeyEvent(ctx, s, o, ActionKeyRevoked, k, now); err != nil {
		return fmt.Errorf("record %s: %w", ActionKeyRevoked, err)
	}
	if err := s.RevokeKey(ctx, trail.Scope{All: true}, k.ID, now); err != nil {
		return fmt.Errorf("revoke key %s: %w", k.ID, err)
	}
	k.RevokedAt = now
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
