// Command trail is Trail's binary: `trail serve` runs the audit log
// service, `trail keys` manages API keys in the data folder, `trail events`
// reads and exports events from a running server, and `trail version`
// prints the release.
//
// Configuration comes from flags, TRAIL_* environment variables and a YAML
// file, in that order of precedence (see Config).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/trailhq/trail"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, restore the default handling so that a
	// second Ctrl-C ends a shutdown that takes too long.
	context.AfterFunc(ctx, stop)
	env := &Env{
		Stdin:            os.Stdin,
		Stdout:           os.Stdout,
		Stderr:           os.Stderr,
		Getenv:           os.Getenv,
		StderrIsTerminal: isTerminal(os.Stderr),
	}
	os.Exit(Run(ctx, env, os.Args[1:]))
}

// Env is what a command runs with: its output streams and environment.
type Env struct {
	// Stdin is read by commands that take secrets from a pipe
	// (trail users create --password-stdin); nil reads nothing.
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// StderrIsTerminal turns on progress displays.
	StderrIsTerminal bool
}

// command is one subcommand of the binary.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *Env, args []string) error
}

// commands lists every subcommand, in the order `trail help` shows them.
func commands() []command {
	return []command{
		{"serve", "run the Trail server", runServe},
		{"keys", "create, list and revoke API keys in the data folder", runKeys},
		{"users", "create and list web console users in the data folder", runUsers},
		{"events", "list, get and export events from a running server", runEvents},
		{"ledger", "print the ledger's public key", runLedger},
		{"secrets", "rotate the key that encrypts the secrets in the store", runSecrets},
		{"verify", "verify the ledger: stored events against signed checkpoints, or a bundle", runVerify},
		{"bench", "measure ingest, query and export performance", runBench},
		{"version", "print the version", runVersion},
	}
}

// runGroup runs the subcommand named by args[0] of a command group such as
// `trail keys`, or prints the group's usage.
func runGroup(ctx context.Context, env *Env, group, usage string, args []string, subs []command) error {
	names := make([]string, len(subs))
	for i, c := range subs {
		names[i] = c.name
	}
	list := strings.Join(names, ", ")
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(env.Stderr, usage)
		if len(args) == 0 {
			return usageErrorf("%s needs a subcommand: %s", group, list)
		}
		return nil
	}
	for _, c := range subs {
		if c.name == args[0] {
			return c.run(ctx, env, args[1:])
		}
	}
	return usageErrorf("%s: unknown subcommand %q: use %s", group, args[0], list)
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// Run runs the command line args (without the program name) and returns
// the exit status: 0 on success, 1 on failure, 2 on a usage error.
func Run(ctx context.Context, env *Env, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printUsage(env.Stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return exitStatus(env.Stderr, c.run(ctx, env, args[1:]))
		}
	}
	fmt.Fprintf(env.Stderr, "trail: unknown command %q\n\n", args[0])
	printUsage(env.Stderr)
	return 2
}

func exitStatus(stderr io.Writer, err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "trail: %v\n", err)
		return 2
	case isFlagError(err):
		return 2 // the flag package has printed the error and the usage
	default:
		// Errors of the trail and client packages name themselves.
		msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "trail client: "), "trail: ")
		fmt.Fprintf(stderr, "trail: %s\n", msg)
		return 1
	}
}

// flagError marks errors that the flag package has already printed.
type flagError struct{ err error }

func (e *flagError) Error() string { return e.err.Error() }

func isFlagError(err error) bool {
	var fe *flagError
	return errors.As(err, &fe)
}

// parseFlags parses args with fs, accepting flags after positional
// arguments too (`trail keys revoke ID --data DIR`), and returns the
// positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &flagError{err}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func printUsage(w io.Writer) {
	fmt.Fprintf(w, "Trail %s: a self-hosted audit log service.\n\nUsage: trail <command> [flags]\n\nCommands:\n", trail.Version)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun `trail <command> -h` for a command's flags.\n")
}

func runVersion(_ context.Context, env *Env, args []string) error {
	if len(args) > 0 {
		return usageErrorf("version takes no arguments")
	}
	fmt.Fprintf(env.Stdout, "trail %s\n", trail.Version)
	return nil
}

// runServe runs the server until ctx ends (SIGINT or SIGTERM), then shuts
// it down gracefully.
func runServe(ctx context.Context, env *Env, args []string) error {
	m := NewMain()
	m.Getenv, m.Stderr = env.Getenv, env.Stderr
	if err := m.ParseFlags(args); err != nil {
		return err
	}
	if err := m.Run(ctx); err != nil {
		m.Close()
		return err
	}
	select {
	case <-ctx.Done():
		m.Logger.Info("shutting down: finishing in-flight requests")
	case err := <-m.served:
		m.served <- err // for Close
		m.Logger.Error("the HTTP server stopped by itself; shutting down", "err", err)
	}
	return m.Close()
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
