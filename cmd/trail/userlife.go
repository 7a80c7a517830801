package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/trailhq/trail"
)

// The lifecycle subcommands of `trail users`: get, update, deactivate,
// reactivate, delete and reset-password. The command line acts as an
// owner (whoever can write the data folder runs Trail), so it manages
// every user; the store still keeps each tenant's last active owner.

// userCommand is a lifecycle subcommand after its flags were read.
type userCommand struct {
	uf   *usersFlags
	user *string
	s    trail.Store
}

// parseUserCommand adds --user to uf, parses args, opens the store and
// resolves the user's id; the caller closes c.s.
func parseUserCommand(ctx context.Context, env *Env, uf *usersFlags, args []string) (*userCommand, *trail.User, error) {
	c := &userCommand{uf: uf, user: uf.fs.String("user", "", "the user: its `id` (u_...) or email")}
	s, _, err := uf.parse(env, args)
	if err != nil {
		return nil, nil, err
	}
	c.s = s
	if *c.user == "" {
		s.Close()
		return nil, nil, usageErrorf("--user: required: the user's id or email (see trail users list --tenant %s)", *uf.tenant)
	}
	var u *trail.User
	if strings.Contains(*c.user, "@") {
		u, err = s.UserByEmail(ctx, *uf.tenant, trail.NormalizeEmail(*c.user))
	} else {
		u, err = s.User(ctx, *uf.tenant, *c.user)
	}
	if trail.ErrorCode(err) == trail.ENOTFOUND {
		err = fmt.Errorf("--user: tenant %s has no user %q (see trail users list --tenant %s)", *uf.tenant, *c.user, *uf.tenant)
	}
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	return c, u, nil
}

// record appends events to the store.
func (c *userCommand) record(ctx context.Context, events []*trail.Event) error {
	if len(events) == 0 {
		return nil
	}
	return c.s.AppendBatches(ctx, []*trail.Batch{{Events: events}})
}

// change makes change to u, records it (and an event of action, if set)
// and prints the user after it.
func (c *userCommand) change(ctx context.Context, env *Env, u *trail.User, change func(*trail.User) error, action string) (*trail.User, error) {
	now, o := time.Now(), cliOrigin(env, "trail users")
	after, err := trail.UpdateUserRecorded(ctx, c.s, c.record, u.Tenant, u.ID, change,
		func(before, after *trail.User) []*trail.Event {
			events := trail.UserEvents(o.actor, o.ctx, before, after, now)
			if action != "" {
				events = append(events, trail.UserEvent(action, o.actor, o.ctx, after, now))
			}
			return events
		})
	if trail.ErrorCode(err) == trail.EINVALID {
		return nil, userFlagError(err)
	}
	return after, err
}

// print writes u as text or JSON.
func (c *userCommand) print(env *Env, u *trail.User) error {
	if *c.uf.output == "json" {
		return json.NewEncoder(env.Stdout).Encode(u)
	}
	status := "active"
	if !u.Active() {
		status = "deactivated since " + u.DeactivatedAt.Format(time.RFC3339)
	}
	_, err := fmt.Fprintf(env.Stdout, "%s  %s  %s of %s, %s\n", u.ID, u.Email, u.Role, u.Tenant, status)
	return err
}

func usersGet(ctx context.Context, env *Env, args []string) error {
	c, u, err := parseUserCommand(ctx, env, newUsersFlags(env, "get"), args)
	if err != nil {
		return err
	}
	defer c.s.Close()
	return c.print(env, u)
}

func usersUpdate(ctx context.Context, env *Env, args []string) error {
	uf := newUsersFlags(env, "update")
	var ch trail.UserChange
	uf.fs.StringVar(&ch.Role, "role", "", "the new `role`: owner, admin or member")
	uf.fs.StringVar(&ch.Email, "email", "", "the new email `address`")
	c, u, err := parseUserCommand(ctx, env, uf, args)
	if err != nil {
		return err
	}
	defer c.s.Close()
	if err := ch.Validate(); err != nil {
		if ch.Role == "" && ch.Email == "" {
			return usageErrorf("give --role or --email")
		}
		return userFlagError(err)
	}
	return c.apply(ctx, env, u, ch)
}

// apply makes ch to u as an owner and prints the user after it.
func (c *userCommand) apply(ctx context.Context, env *Env, u *trail.User, ch trail.UserChange) error {
	after, err := c.change(ctx, env, u, func(u *trail.User) error { return ch.Apply(trail.RoleOwner, u, time.Now()) }, "")
	if err != nil {
		return err
	}
	return c.print(env, after)
}

// usersSetActive returns the deactivate or reactivate subcommand.
func usersSetActive(active bool) func(context.Context, *Env, []string) error {
	name := map[bool]string{true: "reactivate", false: "deactivate"}[active]
	return func(ctx context.Context, env *Env, args []string) error {
		c, u, err := parseUserCommand(ctx, env, newUsersFlags(env, name), args)
		if err != nil {
			return err
		}
		defer c.s.Close()
		return c.apply(ctx, env, u, trail.UserChange{Active: &active})
	}
}

func usersDelete(ctx context.Context, env *Env, args []string) error {
	c, u, err := parseUserCommand(ctx, env, newUsersFlags(env, "delete"), args)
	if err != nil {
		return err
	}
	defer c.s.Close()
	now, o := time.Now(), cliOrigin(env, "trail users")
	_, err = trail.DeleteUserRecorded(ctx, c.s, c.record, u.Tenant, u.ID,
		func(*trail.User) error { return nil },
		func(u *trail.User) *trail.Event {
			return trail.UserEvent(trail.ActionUserDeleted, o.actor, o.ctx, u, now)
		})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Deleted user %s (%s) of %s; their events keep their id and email.\n", u.ID, u.Email, u.Tenant)
	return nil
}

func usersResetPassword(ctx context.Context, env *Env, args []string) error {
	c, u, err := parseUserCommand(ctx, env, newUsersFlags(env, "reset-password"), args)
	if err != nil {
		return err
	}
	defer c.s.Close()
	var token string
	after, err := c.change(ctx, env, u, func(u *trail.User) (err error) {
		token, err = trail.NewPasswordReset(u, time.Now())
		return err
	}, trail.ActionUserPasswordReset)
	if err != nil {
		return err
	}
	if *c.uf.output == "json" {
		return json.NewEncoder(env.Stdout).Encode(map[string]any{"user_id": after.ID, "token": token,
			"path": trail.PasswordResetPath(token), "expires_at": after.ResetExpiresAt})
	}
	fmt.Fprintf(env.Stdout, "Give %s this link (shown once; it works once, until %s):\n  <console address>%s\n",
		after.Email, after.ResetExpiresAt.Format(time.RFC3339), trail.PasswordResetPath(token))
	return nil
}
