package main

import (
	"bytes"
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
	ls := m.Store
	origin := ledgerOrigin(m.Config)
	if strings.ContainsAny(origin, " \t\r\n+") || strings.HasSuffix(origin, "/") {
		return fmt.Errorf("--ledger-origin (TRAIL_LEDGER_ORIGIN): %q must be a name like audit.example.com, without spaces, '+' or a trailing '/'", origin)
	}
	key, err := ledger.LoadOrCreateKey(LedgerKeyPath(m.Config), origin)
	if err != nil {
		return fmt.Errorf("--ledger-key: %w", err)
	}
	m.Ledger, err = ledger.New(ls, ledger.Config{Key: key, Origin: origin, Logger: m.Logger,
		Follower: m.Follower})
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
  trail ledger pubkey [--data DIR] [--ledger-key FILE] [--log NAME]

pubkey prints the note verifier key of the ledger's checkpoints, creating
the signing key if the server has not run yet. Give it to whoever verifies
your logs (trail verify --pubkey) through a channel they trust. With --log
(a tenant, ~system, or @operator for the operator log) it prints the same key named after that log's
checkpoint origin, as witnesses and other tlog-checkpoint clients want it.
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
	log := fs.String("log", "", "print the key named after this log's origin: a tenant, ~system or @operator")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf("ledger pubkey: unexpected argument %q", pos[0])
	}
	if *log != "" && *log != ledger.SystemLog && *log != trail.OperatorTenant && !trail.ValidTenant(*log) {
		return usageErrorf("ledger pubkey: --log %q must be a tenant name, ~system or @operator", *log)
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
	vkey := key.VerifierKey()
	if *log != "" {
		vkey, err = key.LogVerifierKey(ledger.LogOrigin(ledgerOrigin(cfg), logTenant(*log)))
		if err != nil {
			return err
		}
	}
	fmt.Fprintln(env.Stdout, vkey)
	return nil
}

// logTenant is the tenant of the log named name: a tenant, or ~system.
func logTenant(name string) string {
	if name == ledger.SystemLog {
		return trail.SystemTenant
	}
	return name
}

const verifyUsage = `Usage:
  trail verify [--data DIR | --store URL] [--pubkey KEY] [--log NAME] [--since FILE]...
  trail verify --server URL --key SECRET --pubkey KEY [--log NAME] [--since FILE]...
  trail verify --bundle FILE --pubkey KEY

verify recomputes every leaf of every log (or of --log: a tenant, ~system,
or @operator) from the stored events and checks them against the latest signed
checkpoint, naming the first bad sequence number and whether it was
modified, missing, inserted or reordered. It reads the store in the data
folder, or a running server through its API (--server), or checks an
evidence bundle offline (--bundle). --pubkey is the verifier key printed by
trail ledger pubkey; pin it, since a key read from the data folder or the
server under suspicion proves little. --since names a checkpoint saved
earlier (e.g. from GET /v1/ledger/checkpoint): the latest must extend it;
it must be a checkpoint signed with --pubkey of a log that is verified.

Exit status: 0 when everything verifies; 1 when something does not, which
is evidence that stored history was changed; 2 when the check could not be
made: a usage mistake, a --since file that is empty, unreadable or not a
signed checkpoint, a store or server that cannot be read. Status 2 is no
evidence either way: fix the cause and run it again.
`

// verifyFlags are the flags of `trail verify`.
type verifyFlags struct {
	fs                          *flag.FlagSet
	cf                          *configFlags
	server, key, pubkey, bundle string
	log                         string
	since                       []string
	acceptInexact               bool
	sinceCPs                    []ledger.Checkpoint // read from since by readSince
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
	fs.StringVar(&vf.log, "log", "", "verify only this log: a tenant, ~system or @operator")
	fs.BoolVar(&vf.acceptInexact, "accept-inexact", false,
		"count, instead of failing, events whose JSON Trail now refuses (numbers beyond double precision, ...), stored before it did")
	fs.Func("since", "a checkpoint `file` saved earlier that the latest must extend; repeatable", func(s string) error {
		vf.since = append(vf.since, s)
		return nil
	})
	return vf
}

// verifyFailed is what verify found wrong with a log or bundle: evidence,
// exit status 1. Every other error of verify exits with status 2.
type verifyFailed struct{ msg string }

func (e *verifyFailed) Error() string { return e.msg }

// runVerify runs `trail verify`.
func runVerify(ctx context.Context, env *Env, args []string) error {
	err := verify(ctx, env, args)
	var failed *verifyFailed
	var ue *usageError
	switch {
	case err == nil, errors.As(err, &failed), errors.As(err, &ue), isFlagError(err), errors.Is(err, flag.ErrHelp):
		return err
	default:
		// Could not check: exit 2 (as usage errors), never 1 (evidence).
		return &usageError{err.Error()}
	}
}

func verify(ctx context.Context, env *Env, args []string) error {
	vf := newVerifyFlags(env)
	pos, err := parseFlags(vf.fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf("verify: unexpected argument %q", pos[0])
	}
	if vf.bundle != "" {
		if len(vf.since) > 0 || vf.server != "" {
			return usageErrorf("verify --bundle checks the bundle alone: it takes no --since or --server")
		}
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
	v := &ledger.Verifier{AcceptInexact: vf.acceptInexact}
	if vf.server != "" {
		key := firstSet(vf.key, env.Getenv("TRAIL_KEY"))
		if key == "" || vf.pubkey == "" {
			return nil, usageErrorf("verify --server needs --key (or TRAIL_KEY) and --pubkey: never take the key from the server you check")
		}
		var err error
		if v.Key, err = ledger.ParseVerifier(vf.pubkey); err != nil {
			return nil, usageErrorf("--pubkey: %v", err)
		}
		v.Source = &ledger.Remote{URL: vf.server, APIKey: key}
		return v, vf.readSince(v)
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
	if err := vf.readSince(v); err != nil {
		return nil, err
	}
	s, err := openExistingStore(cfg)
	if err != nil {
		return nil, err
	}
	v.Source = s
	return v, nil
}

// readSince reads the --since files into v.Since. Each must be a
// checkpoint signed with v.Key: a file that is empty, unreadable or signed
// otherwise would otherwise check nothing, and say ok.
func (vf *verifyFlags) readSince(v *ledger.Verifier) error {
	for _, path := range vf.since {
		b, err := os.ReadFile(path)
		if err != nil {
			return usageErrorf("--since: %v", err)
		}
		if len(bytes.TrimSpace(b)) == 0 {
			return usageErrorf("--since %s: the file is empty, not a signed checkpoint", path)
		}
		cp, err := ledger.OpenCheckpoint(b, v.Key)
		if err != nil {
			return usageErrorf("--since %s: not a checkpoint signed with --pubkey: %v", path, err)
		}
		v.Since = append(v.Since, b)
		vf.sinceCPs = append(vf.sinceCPs, cp)
	}
	return nil
}

// checkSinceUsed fails when a --since checkpoint belongs to no log that
// was verified: it was then compared with nothing.
func (vf *verifyFlags) checkSinceUsed(reports []*ledger.Report) error {
	for i, cp := range vf.sinceCPs {
		found := false
		for _, r := range reports {
			found = found || r.Origin == cp.Origin
		}
		if !found {
			return usageErrorf("--since %s: a checkpoint of %s, a log that was not verified here (see --log, and the key's tenant)", vf.since[i], cp.Origin)
		}
	}
	return nil
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
		return &verifyFailed{fmt.Sprintf("verification failed: %s: %s", first.Origin, first.Problems[0])}
	}
	// Evidence first; then a kept checkpoint that nothing was compared
	// with makes the run inconclusive.
	if err := vf.checkSinceUsed(reports); err != nil {
		return err
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
	verifyBundle := ledger.VerifyBundle
	if vf.acceptInexact {
		verifyBundle = ledger.VerifyBundleAcceptInexact
	}
	r, err := verifyBundle(in, v)
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
		return &verifyFailed{fmt.Sprintf("verification failed: %s", r.Problems[0])}
	}
	fmt.Fprintf(env.Stdout, "ok: %s proven in %s\n", plural(r.Events, "event", "events"),
		plural(len(r.Checkpoints), "checkpoint", "checkpoints"))
	return nil
}
