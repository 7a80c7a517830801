package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"time"
)

const healthcheckUsage = `Usage:
  trail healthcheck [--url URL] [--timeout D]

healthcheck asks the server of these settings (--addr, TRAIL_ADDR; a
wildcard host like 0.0.0.0 means this machine) whether it is ready
(GET /readyz: it answers and reaches its store) and exits 0 when it is,
1 when not. It is the container image's health check, which has no curl.
`

// runHealthcheck runs `trail healthcheck`.
func runHealthcheck(ctx context.Context, env *Env, args []string) error {
	fs := flag.NewFlagSet("trail healthcheck", flag.ContinueOnError)
	var cf *configFlags
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprint(env.Stderr, healthcheckUsage, "\nFlags of trail healthcheck:\n")
		cf.usage(env.Stderr, "addr")
	}
	cf = addConfigFlags(fs)
	url := fs.String("url", "", "check this `URL` instead (default http://ADDR/readyz)")
	timeout := fs.Duration("timeout", 5*time.Second, "give up after this long")
	cfg, err := parseStoreCommand(fs, cf, env, args, "healthcheck")
	if err != nil {
		return err
	}
	if *url == "" {
		*url = "http://" + localAddr(cfg.Addr) + "/readyz"
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return usageErrorf("--url: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", *url, resp.Status)
	}
	fmt.Fprintf(env.Stdout, "ok: %s answered %s\n", *url, resp.Status)
	return nil
}

// localAddr turns a listen address into one to connect to: a wildcard or
// empty host becomes the loopback address.
func localAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
