package main

import (
	"encoding/json"
	"os"
	"os/user"
	"strconv"
	"time"

	"github.com/trailhq/trail"
)

// origin is who made a change that Trail records about itself from the
// command line or the node: the actor, with the OS user and host in its
// metadata, and the context, whose user agent names the program.
type origin struct {
	actor trail.Actor
	ctx   trail.Context
}

// cliOrigin is the origin of a CLI command such as "trail keys": the OS
// user running it (and the user sudo was run by, when it was), on this
// host, as user agent trail-cli/<version>.
func cliOrigin(env *Env, command string) origin {
	meta := map[string]string{"os_user": osUser(), "host": hostname()}
	if env.Getenv != nil {
		if su := env.Getenv("SUDO_USER"); su != "" {
			meta["sudo_user"] = su
		}
	}
	a := trail.Actor{Type: trail.ActorSystem, ID: "cli", Name: command}
	a.Metadata, _ = json.Marshal(meta) // a map of strings always encodes
	return origin{actor: a, ctx: trail.Context{UserAgent: "trail-cli/" + trail.Version}}
}

// nodeOrigin is the origin of changes a node makes as it starts, such as
// applying the forwarders of its config file: the node (its host) and the
// file, as user agent trail/<version>.
func nodeOrigin(configFile string) origin {
	meta := map[string]string{"node": hostname(), "os_user": osUser()}
	name := "trail serve"
	if configFile != "" {
		meta["config_file"] = configFile
		name = "config file " + configFile
	}
	a := trail.Actor{Type: trail.ActorSystem, ID: "config", Name: name}
	a.Metadata, _ = json.Marshal(meta)
	return origin{actor: a, ctx: trail.Context{UserAgent: "trail/" + trail.Version}}
}

// event builds the audit event of a change in tenant's log.
func (o origin) event(tenant, action string, now time.Time, targets ...trail.Target) *trail.Event {
	return trail.NewSystemEvent(trail.AuditLog(tenant), action, o.actor, o.ctx, now, targets...)
}

func osUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "uid " + strconv.Itoa(os.Getuid())
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "unknown"
	}
	return h
}
