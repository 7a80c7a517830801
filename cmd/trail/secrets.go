package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"path/filepath"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/internal/secretbox"
)

// secretStore is a store that seals the secrets it keeps: both stores.
type secretStore interface {
	UseSecrets(*secretbox.Keyring)
	ResealSecrets(ctx context.Context) (int, error)
}

// SecretsKeyPath returns the secrets key file that cfg names:
// --secrets-key, or secrets.key beside the ledger key (in the data folder
// unless --ledger-key moves it), so that nodes already sharing a ledger key
// share the secrets key too.
func SecretsKeyPath(cfg Config) string {
	if cfg.SecretsKey != "" {
		return cfg.SecretsKey
	}
	return filepath.Join(filepath.Dir(LedgerKeyPath(cfg)), secretbox.KeyFile)
}

// UseSecrets loads (or creates, at first start) the secrets key, gives it
// to db, and seals the secrets that an older version stored in plain text.
// Only the commands that handle stored secrets call it, so that a command
// run elsewhere (trail keys create --store from a laptop) never makes a key
// of its own and seals secrets with it.
func UseSecrets(cfg Config, db trail.Store) error {
	ss, ok := db.(secretStore)
	if !ok {
		return nil
	}
	k, err := secretbox.LoadOrCreate(SecretsKeyPath(cfg))
	if err != nil {
		return fmt.Errorf("--secrets-key: %w", err)
	}
	ss.UseSecrets(k)
	if _, err := ss.ResealSecrets(context.Background()); err != nil {
		return fmt.Errorf("seal stored secrets: %w", err)
	}
	return nil
}

const secretsUsage = `Usage:
  trail secrets init --secrets-key FILE
  trail secrets rotate

init creates a secrets key file (0600) for nodes that must share one: with
several nodes on one PostgreSQL, or when the ledger key is mounted
read-only (Kubernetes and Compose secrets), make it once, hand the same file
to every node and point --secrets-key at it. A file that exists is left as
it is. trail serve creates one by itself where it can write.

rotate puts a new key in the secrets key file (--secrets-key, default
secrets.key beside the ledger key, in the data folder), encrypts every secret in the store again
under it, then removes the old key. The old key stays in the file until
every secret is encrypted again, so a running server and an interrupted
rotation keep working; run rotate again to finish an interrupted one. With
several nodes on one PostgreSQL, every node must read the same file.
`

// runSecrets runs `trail secrets rotate`.
func runSecrets(ctx context.Context, env *Env, args []string) error {
	return runGroup(ctx, env, "secrets", secretsUsage, args, []command{
		{"init", "create a secrets key file to share between nodes", secretsInit},
		{"rotate", "encrypt the stored secrets under a new key", secretsRotate},
	})
}

// secretsInit creates the secrets key file that --secrets-key names, with
// one new key, unless it exists. It opens no store.
func secretsInit(ctx context.Context, env *Env, args []string) error {
	fs := flag.NewFlagSet("trail secrets init", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	path := fs.String("secrets-key", "", "the key `file` to create (required)")
	fs.Usage = func() {
		fmt.Fprint(env.Stderr, secretsUsage, "\nFlags of trail secrets init:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return usageErrorf("%v", err)
	}
	if fs.NArg() > 0 {
		return usageErrorf("secrets init: unexpected argument %q", fs.Arg(0))
	}
	if *path == "" {
		return usageErrorf("secrets init: --secrets-key FILE is required")
	}
	k, err := secretbox.LoadOrCreate(*path)
	if err != nil {
		return fmt.Errorf("--secrets-key: %w", err)
	}
	fmt.Fprintf(env.Stdout, "secrets key %s: %d key(s), mode 0600; give every node this file\n", k.Path(), len(k.IDs()))
	return nil
}

func secretsRotate(ctx context.Context, env *Env, args []string) error {
	fs := flag.NewFlagSet("trail secrets rotate", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprint(env.Stderr, secretsUsage, "\nFlags:\n")
		fs.PrintDefaults()
	}
	cf := addConfigFlags(fs)
	if err := fs.Parse(args); err != nil {
		return usageErrorf("%v", err)
	}
	if fs.NArg() > 0 {
		return usageErrorf("secrets rotate: unexpected argument %q", fs.Arg(0))
	}
	cfg, err := cf.load(env.Getenv)
	if err != nil {
		return err
	}
	db, err := OpenStore(cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := UseSecrets(cfg, db); err != nil {
		return err
	}
	ss, ok := db.(secretStore)
	if !ok {
		return fmt.Errorf("store %T keeps no secrets", db)
	}
	k, err := secretbox.Load(SecretsKeyPath(cfg))
	if err != nil {
		return err
	}
	total, err := rotate(ctx, env, k, ss)
	if err != nil {
		return err
	}
	e := cliOrigin(env, "trail secrets").event(trail.SystemTenant, ActionSecretsRotated, time.Now())
	e.Metadata, _ = json.Marshal(map[string]any{"key_id": k.CurrentID(), "resealed": total})
	if err := db.AppendBatches(ctx, []*trail.Batch{{Events: []*trail.Event{e}}}); err != nil {
		return fmt.Errorf("the secrets key was rotated, but recording %s failed: %w", ActionSecretsRotated, err)
	}
	return nil
}

// ActionSecretsRotated is recorded, in the system log, when `trail secrets
// rotate` has encrypted every stored secret under a new key.
const ActionSecretsRotated = "secrets.rotated"

// rotate adds a new key (unless an interrupted rotation left one), reseals
// every secret under it until a pass finds none left under an old key,
// then drops the old keys.
func rotate(ctx context.Context, env *Env, k *secretbox.Keyring, ss secretStore) (int, error) {
	if len(k.IDs()) == 1 {
		if _, err := k.Rotate(); err != nil {
			return 0, err
		}
	}
	ss.UseSecrets(k)
	total := 0
	for {
		n, err := ss.ResealSecrets(ctx)
		if err != nil {
			return 0, fmt.Errorf("encrypt secrets under the new key (run rotate again to finish): %w", err)
		}
		if n == 0 {
			break
		}
		total += n
	}
	if err := k.DropOld(); err != nil {
		return 0, err
	}
	fmt.Fprintf(env.Stdout, "secrets key rotated: key %s encrypts %d stored secrets; the old key is removed from %s\n",
		k.CurrentID(), total, k.Path())
	return total, nil
}
