package main

import (
	"bufio"
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
	"github.com/trailhq/trail/console"
)

const usersUsage = `Usage:
  echo "$PASSWORD" | trail users create --tenant NAME --email ADDRESS --role owner|admin|member --password-stdin [--output text|json]
  echo "$PASSWORD" | trail users create --platform --email ADDRESS --password-stdin
  trail users list --tenant NAME [--output text|json]
  trail users get --tenant NAME --user ID|EMAIL [--output text|json]
  trail users update --tenant NAME --user ID|EMAIL [--role owner|admin|member] [--email ADDRESS]
  trail users deactivate|reactivate|delete --tenant NAME --user ID|EMAIL
  trail users reset-password --tenant NAME --user ID|EMAIL [--output text|json]

Users sign in to the web console. Owners and admins read the audit log and
manage settings; members may sign in but see neither. The users commands
work directly on the store in the data folder (--data, TRAIL_DATA), also
while the server runs. The password is read from standard input (its first
line), never from a flag, so it stays out of shell history and ps.

The command line acts as an owner: it manages every user, but a tenant's
last active owner cannot be demoted, deactivated or deleted. Deactivating
ends the user's sessions at once. reset-password prints a one-time link,
valid for 24 hours, that sets a new password. Every change is recorded in
the tenant's log (user.role_changed, user.deactivated, ...).

--platform, instead of --tenant, names the operator's own console users
(platform users, role owner): they sign in with organization @operator,
read the operator log and system events, and may open any tenant's log
read-only; each such view is recorded in that tenant's log. Their changes
are recorded in the operator log.
`

// runUsers runs `trail users` and its subcommands.
func runUsers(ctx context.Context, env *Env, args []string) error {
	return runGroup(ctx, env, "users", usersUsage, args, []command{
		{"create", "create a console user", usersCreate},
		{"list", "list a tenant's console users", usersList},
		{"get", "show one user", usersGet},
		{"update", "change a user's role or email", usersUpdate},
		{"deactivate", "block a user from signing in and end their sessions", usersSetActive(false)},
		{"reactivate", "let a deactivated user sign in again", usersSetActive(true)},
		{"delete", "delete a user (their events stay)", usersDelete},
		{"reset-password", "make a one-time password reset link", usersResetPassword},
	})
}

// usersFlags are the flags every users subcommand shares.
type usersFlags struct {
	fs       *flag.FlagSet
	cf       *configFlags
	tenant   *string
	platform *bool
	output   *string
}

func newUsersFlags(env *Env, name string) *usersFlags {
	fs := flag.NewFlagSet("trail users "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	uf := &usersFlags{fs: fs}
	fs.Usage = func() {
		fmt.Fprint(env.Stderr, usersUsage, "\nFlags of trail users "+name+":\n")
		uf.cf.usage(env.Stderr, "data", "store")
	}
	uf.cf = addConfigFlags(fs)
	uf.tenant = fs.String("tenant", "", "the user's tenant (organization)")
	uf.platform = fs.Bool("platform", false, "a platform (operator) user, of no tenant")
	uf.output = fs.String("output", "text", "output `format`: text or json")
	return uf
}

// parse parses args and opens the store's user store; the caller closes
// the returned store.
func (uf *usersFlags) parse(env *Env, args []string) (trail.Store, trail.UserStore, error) {
	pos, err := parseFlags(uf.fs, args)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case len(pos) > 0:
		return nil, nil, usageErrorf("%s: unexpected argument %q", uf.fs.Name(), pos[0])
	case *uf.output != "text" && *uf.output != "json":
		return nil, nil, usageErrorf("--output: %q is not text or json", *uf.output)
	case *uf.platform && *uf.tenant != "":
		return nil, nil, usageErrorf("--platform: a platform user has no tenant; give --platform or --tenant, not both")
	case *uf.platform:
		*uf.tenant = trail.OperatorTenant
	case !trail.ValidTenant(*uf.tenant):
		return nil, nil, usageErrorf("--tenant: required: 1 to 64 letters, digits, '.', '_' or '-'")
	}
	cfg, err := uf.cf.load(env.Getenv)
	if err != nil {
		return nil, nil, err
	}
	s, err := openExistingStore(cfg)
	if err != nil {
		return nil, nil, err
	}
	return s, s, nil
}

func usersCreate(ctx context.Context, env *Env, args []string) error {
	uf := newUsersFlags(env, "create")
	email := uf.fs.String("email", "", "the user's email `address`, which they sign in with")
	role := uf.fs.String("role", "", "the user's `role`: owner, admin or member")
	fromStdin := uf.fs.Bool("password-stdin", false, "read the password from standard input (required)")
	s, us, err := uf.parse(env, args)
	if err != nil {
		return err
	}
	defer s.Close()
	if !*fromStdin {
		return usageErrorf("--password-stdin is required: pipe the password in, like: echo \"$PASSWORD\" | trail users create ... --password-stdin")
	}
	pw, err := readPassword(env.Stdin)
	if err != nil {
		return err
	}
	if *uf.platform && *role == "" {
		*role = trail.RoleOwner
	}
	now := time.Now()
	u, err := console.CreateUser(ctx, us, *uf.tenant, *email, *role, pw, now)
	switch {
	case trail.ErrorCode(err) == trail.EINVALID:
		return userFlagError(err)
	case trail.ErrorCode(err) == trail.ECONFLICT:
		return fmt.Errorf("tenant %s already has a user %s (see trail users list --tenant %s)",
			*uf.tenant, trail.NormalizeEmail(*email), *uf.tenant)
	case err != nil:
		return fmt.Errorf("create user: %w", err)
	}
	e := cliOrigin(env, "trail users").event(u.Tenant, trail.ActionUserCreated, now,
		trail.Target{Type: "user", ID: u.ID, Name: u.Email})
	e.Metadata, _ = json.Marshal(map[string]string{"role": u.Role})
	if err := s.AppendBatches(ctx, []*trail.Batch{{Events: []*trail.Event{e}}}); err != nil {
		return fmt.Errorf("user %s was created, but recording %s failed: %w", u.ID, trail.ActionUserCreated, err)
	}
	if *uf.output == "json" {
		return json.NewEncoder(env.Stdout).Encode(u)
	}
	fmt.Fprintf(env.Stdout, "Created user %s: %s, %s of %s.\nThey sign in at /login with organization %q.\n",
		u.ID, u.Email, u.Role, u.Tenant, u.Tenant)
	return nil
}

// readPassword reads the first line of r, without its line ending.
func readPassword(r io.Reader) (string, error) {
	if r == nil {
		return "", usageErrorf("--password-stdin: no standard input")
	}
	line, err := bufio.NewReader(io.LimitReader(r, console.MaxPasswordLen+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", usageErrorf("--password-stdin: standard input was empty; pipe the password in")
	}
	return pw, nil
}

// userFlagError turns the domain's field names into flag names.
func userFlagError(err error) error {
	var te *trail.Error
	if !errors.As(err, &te) || len(te.Details) == 0 {
		return err
	}
	msgs := make([]string, len(te.Details))
	for i, d := range te.Details {
		field := d.Field
		if field == "password" {
			field = "password-stdin"
		}
		msgs[i] = "--" + field + ": " + d.Problem
	}
	return usageErrorf("%s", strings.Join(msgs, "; "))
}

func usersList(ctx context.Context, env *Env, args []string) error {
	uf := newUsersFlags(env, "list")
	s, us, err := uf.parse(env, args)
	if err != nil {
		return err
	}
	defer s.Close()
	users, err := us.Users(ctx, *uf.tenant)
	if err != nil {
		return fmt.Errorf("list users: %w", err)
	}
	if *uf.output == "json" {
		return json.NewEncoder(env.Stdout).Encode(map[string]any{"users": users})
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEMAIL\tROLE\tSTATUS\tCREATED")
	for _, u := range users {
		status := "active"
		if !u.Active() {
			status = "deactivated"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.ID, u.Email, u.Role, status, u.CreatedAt.Format(time.RFC3339))
	}
	return tw.Flush()
}
