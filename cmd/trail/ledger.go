package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/ledger"
	"golang.org/x/mod/sumdb/note"
)

// ledgerLeaseTTL is how long the sequencer's lease lasts without renewal:
// how long a dead node's logs wait before another node sequences them.
const ledgerLeaseTTL = 10 * time.Second

// LedgerKeyPath returns the signing key file that cfg names: --ledger-key,
// or ledger.key in the data folder.
func LedgerKeyPath(cfg Config) string {
	if cfg.LedgerKey != "" {
		return cfg.LedgerKey
	}
	return filepath.Join(cfg.Data, ledger.KeyFile)
}

// ledgerOrigin returns the configured origin, or the default.
func ledgerOrigin(cfg Config) string {
	if cfg.LedgerOrigin != "" {
		return cfg.LedgerOrigin
	}
	return ledger.DefaultOrigin
}

// newLedger loads (or creates, at first start) the signing key and builds
// the ledger that serves checkpoints and proofs. serve calls it before
// building the API.
func (m *Main) newLedger() error {
	ls, ok := m.Store.(ledger.Store)
	if !ok {
		return fmt.Errorf("store %T has no ledger", m.Store)
	}
	origin := ledgerOrigin(m.Config)
	if strings.ContainsAny(origin, " \t\r\n+") || strings.HasSuffix(origin, "/") {
		return fmt.Errorf("--ledger-origin (TRAIL_LEDGER_ORIGIN): %q must be a name like audit.example.com, without spaces, '+' or a trailing '/'", origin)
	}
	key, err := ledger.LoadOrCreateKey(LedgerKeyPath(m.Config), origin)
	if err != nil {
		return fmt.Errorf("--ledger-key: %w", err)
	}
	m.Ledger, err = ledger.New(ls, ledger.Config{Key: key, Origin: origin, Logger: m.Logger})
	return err
}

// startLedger runs the sequencer under the "ledger" lease until bgctx
// ends, so that with several nodes on one PostgreSQL exactly one node
// sequences and another takes over when it dies.
func (m *Main) startLedger(bgctx context.Context) {
	lease := trail.LeaseConfig{Name: ledger.LeaseName, Holder: leaseHolder(), TTL: ledgerLeaseTTL, Logger: m.Logger}
	m.goBackground(func() { trail.RunWithLease(bgctx, m.Store, lease, m.Ledger.Run) })
}

const ledgerUsage = `Usage:
  trail ledger pubkey [--data DIR] [--ledger-key FILE]

pubkey prints the note verifier key of the ledger's checkpoints, creating
the signing key if the server has not run yet. Give it to whoever verifies
your logs (trail verify --pubkey) through a channel they trust.
`

// runLedger runs `trail ledger pubkey`.
func runLedger(ctx context.Context, env *Env, args []string) error {
	return runGroup(ctx, env, "ledger", ledgerUsage, args, []command{
		{"pubkey", "print the checkpoints' public key", ledgerPubkey},
	})
}

func ledgerPubkey(ctx context.Context, env *Env, args []string) error {
	fs := flag.NewFlagSet("trail ledger pubkey", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	var cf *configFlags
	fs.Usage = func() {
		fmt.Fprint(env.Stderr, ledgerUsage, "\nFlags of trail ledger pubkey:\n")
		cf.usage(env.Stderr, "data", "ledger-key", "ledger-origin")
	}
	cf = addConfigFlags(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf("ledger pubkey: unexpected argument %q", pos[0])
	}
	cfg, err := cf.load(env.Getenv)
	if err != nil {
		return err
	}
	if err := pubkeyFolderExists(cfg); err != nil {
		return err
	}
	key, err := ledger.LoadOrCreateKey(LedgerKeyPath(cfg), ledgerOrigin(cfg))
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, key.VerifierKey())
	return nil
}

const verifyUsage = `Usage:
  trail verify [--data DIR | --store URL] [--pubkey KEY] [--log NAME] [--since FILE]...
  trail verify --server URL --key SECRET --pubkey KEY [--log NAME] [--since FILE]...
  trail verify --bundle FILE --pubkey KEY

verify recomputes every leaf of every log (or of --log: a tenant, or
~system) from the stored events and checks them against the latest signed
checkpoint, naming the first bad sequence number and whether it was
modified, missing, inserted or reordered. It reads the store in the data
folder, or a running server through its API (--server), or checks an
evidence bundle offline (--bundle). --pubkey is the verifier key printed by
trail ledger pubkey; pin it, since a key read from the data folder or the
server under suspicion proves little. --since names a checkpoint saved
earlier (e.g. from GET /v1/ledger/checkpoint): the latest must extend it.
Exit status: 0 when everything verifies, 1 when something does not.
`

// verifyFlags are the flags of `trail verify`.
type verifyFlags struct {
	fs                          *flag.FlagSet
	cf                          *configFlags
	server, key, pubkey, bundle string
	log                         string
	since                       []string
}

func newVerifyFlags(env *Env) *verifyFlags {
	fs := flag.NewFlagSet("trail verify", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	vf := &verifyFlags{fs: fs}
	fs.Usage = func() {
		fmt.Fprint(env.Stderr, verifyUsage, "\nFlags of trail verify:\n")
		vf.cf.usage(env.Stderr, "data", "store", "ledger-key")
	}
	vf.cf = addConfigFlags(fs)
	fs.StringVar(&vf.server, "server", "", "verify a running server at this `URL` through its API")
	fs.StringVar(&vf.key, "key", "", "API key `secret` with events:read, for --server (env TRAIL_KEY)")
	fs.StringVar(&vf.pubkey, "pubkey", "", "the checkpoints' verifier `key` (trail ledger pubkey)")
	fs.StringVar(&vf.bundle, "bundle", "", "check this evidence bundle `file` offline (- for standard input)")
	fs.StringVar(&vf.log, "log", "", "verify only this log: a tenant, or ~system")
	fs.Func("since", "a checkpoint `file` saved earlier that the latest must extend; repeatable", func(s string) error {
		vf.since = append(vf.since, s)
		return nil
	})
	return vf
}

// runVerify runs `trail verify`.
func runVerify(ctx context.Context, env *Env, args []string) error {
	vf := newVerifyFlags(env)
	pos, err := parseFlags(vf.fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf("verify: unexpected argument %q", pos[0])
	}
	if vf.bundle != "" {
		return vf.verifyBundle(env)
	}
	v, err := vf.verifier(env)
	if err != nil {
		return err
	}
	if closer, ok := v.Source.(io.Closer); ok {
		defer closer.Close()
	}
	return vf.verifyLogs(ctx, env, v)
}

// verifier builds the verifier of the store or the server.
func (vf *verifyFlags) verifier(env *Env) (*ledger.Verifier, error) {
	v := &ledger.Verifier{}
	for _, path := range vf.since {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--since: %w", err)
		}
		v.Since = append(v.Since, b)
	}
	if vf.server != "" {
		key := firstSet(vf.key, env.Getenv("TRAIL_KEY"))
		if key == "" || vf.pubkey == "" {
			return nil, usageErrorf("verify --server needs --key (or TRAIL_KEY) and --pubkey: never take the key from the server you check")
		}
		var err error
		v.Source = &ledger.Remote{URL: vf.server, APIKey: key}
		v.Key, err = ledger.ParseVerifier(vf.pubkey)
		return v, err
	}
	cfg, err := vf.cf.load(env.Getenv)
	if err != nil {
		return nil, err
	}
	if cfg.Store == "" {
		if err := storeExists(cfg.Data); err != nil {
			return nil, err
		}
	}
	if v.Key, err = localVerifier(cfg, vf.pubkey, env); err != nil {
		return nil, err
	}
	s, err := openExistingStore(cfg)
	if err != nil {
		return nil, err
	}
	ls, ok := s.(ledger.Source)
	if !ok {
		s.Close()
		return nil, fmt.Errorf("store %T has no ledger", s)
	}
	v.Source = ls
	return v, nil
}

// localVerifier is --pubkey, or else the public half of the data folder's
// signing key (with a warning: whoever can edit the folder can replace it).
func localVerifier(cfg Config, pubkey string, env *Env) (note.Verifier, error) {
	if pubkey != "" {
		return ledger.ParseVerifier(pubkey)
	}
	key, err := ledger.LoadKey(LedgerKeyPath(cfg))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no ledger key at %s: has trail serve ever run on this data folder? (or pass --pubkey)", LedgerKeyPath(cfg))
	}
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(env.Stderr, "trail: verifying with the key in %s; pass --pubkey with the key you pinned to rule out a replaced key\n", LedgerKeyPath(cfg))
	return key.Verifier(), nil
}

// verifyLogs verifies the logs and prints a report; any problem is an
// error that names the first bad seq.
func (vf *verifyFlags) verifyLogs(ctx context.Context, env *Env, v *ledger.Verifier) error {
	var reports []*ledger.Report
	var err error
	if vf.log != "" {
		tenant := vf.log
		if tenant == ledger.SystemLog {
			tenant = trail.SystemTenant
		}
		var r *ledger.Report
		r, err = v.VerifyLog(ctx, tenant)
		reports = append(reports, r)
	} else {
		reports, err = v.VerifyAll(ctx)
	}
	if err != nil {
		return err
	}
	var first *ledger.Report
	for _, r := range reports {
		fmt.Fprintln(env.Stdout, r.Summary())
		for _, p := range r.Problems {
			fmt.Fprintln(env.Stdout, "  "+p.String())
		}
		if !r.OK() && first == nil {
			first = r
		}
	}
	if first != nil {
		return fmt.Errorf("verification failed: %s: %s", first.Origin, first.Problems[0])
	}
	fmt.Fprintf(env.Stdout, "ok: %s verified\n", plural(len(reports), "log", "logs"))
	return nil
}

func (vf *verifyFlags) verifyBundle(env *Env) error {
	if vf.pubkey == "" {
		return usageErrorf("verify --bundle needs --pubkey: the verifier key you were given")
	}
	v, err := ledger.ParseVerifier(vf.pubkey)
	if err != nil {
		return err
	}
	var in io.Reader = env.Stdin
	if vf.bundle != "-" {
		f, err := os.Open(vf.bundle)
		if err != nil {
			return fmt.Errorf("--bundle: %w", err)
		}
		defer f.Close()
		in = f
	}
	r, err := ledger.VerifyBundle(in, v)
	if err != nil {
		return err
	}
	for _, cp := range r.Checkpoints {
		fmt.Fprintf(env.Stdout, "checkpoint %s size %d: signature ok\n", cp.Origin, cp.Size)
	}
	for _, p := range r.Problems {
		fmt.Fprintln(env.Stdout, "  "+p.String())
	}
	if !r.OK() {
		return fmt.Errorf("verification failed: %s", r.Problems[0])
	}
	fmt.Fprintf(env.Stdout, "ok: %s proven in %s\n", plural(r.Events, "event", "events"),
		plural(len(r.Checkpoints), "checkpoint", "checkpoints"))
	return nil
}
