package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/trailhq/trail"
	"github.com/trailhq/trail/client"
)

// DefaultServer is the server the events commands talk to when neither
// --server nor TRAIL_SERVER is set: where `trail serve` listens by default.
const DefaultServer = "http://127.0.0.1:8080"

const eventsUsage = `Usage:
  trail events list [filters] [--limit N] [--cursor C] [--all] [--output table|json|jsonl]
  trail events get [--output json|table] EVENT_ID
  trail events export --format csv|jsonl|bundle [--output FILE] [filters]

The events commands talk to a running server: --server URL (TRAIL_SERVER,
default http://127.0.0.1:8080) with an API key holding events:read
(--key, TRAIL_KEY).
`

// runEvents runs `trail events list|get|export`.
func runEvents(ctx context.Context, env *Env, args []string) error {
	return runGroup(ctx, env, "events", eventsUsage, args, []command{
		{"list", "list events", eventsList},
		{"get", "get one event", eventsGet},
		{"export", "export events", eventsExport},
	})
}

// eventsFlags are the connection flags and, for list and export, the
// filters.
type eventsFlags struct {
	fs     *flag.FlagSet
	server *string
	key    *string
	url    string // the server, once parsed
	q      client.Query
	since  string
	until  string
}

func newEventsFlags(env *Env, name string, filters bool) *eventsFlags {
	fs := flag.NewFlagSet("trail events "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprint(env.Stderr, eventsUsage, "\nFlags:\n")
		fs.PrintDefaults()
	}
	ef := &eventsFlags{fs: fs}
	ef.server = fs.String("server", "", "server `URL` (env TRAIL_SERVER; default "+DefaultServer+")")
	ef.key = fs.String("key", "", "API key `secret` (env TRAIL_KEY)")
	if filters {
		ef.addFilters()
	}
	return ef
}

func (ef *eventsFlags) addFilters() {
	fs, q := ef.fs, &ef.q
	fs.Func("action", "match this `action`; repeat for several; 'user.*' (quoted) matches a prefix", func(s string) error {
		q.Actions = append(q.Actions, s)
		return nil
	})
	fs.StringVar(&q.Tenant, "tenant", "", "read one tenant (platform keys)")
	fs.StringVar(&q.ActorType, "actor-type", "", "match actor type")
	fs.StringVar(&q.ActorID, "actor-id", "", "match actor id")
	fs.StringVar(&q.ActorName, "actor-name", "", "match actor name")
	fs.StringVar(&q.TargetType, "target-type", "", "match a target's type")
	fs.StringVar(&q.TargetID, "target-id", "", "match a target's id")
	fs.StringVar(&q.TraceID, "trace-id", "", "match trace id")
	fs.StringVar(&q.IP, "ip", "", "match client IP")
	fs.StringVar(&q.Query, "query", "", "full-text `search`: words, \"phrases\", field:value, prefix*, AND, OR, NOT")
	fs.StringVar(&ef.since, "since", "", "occurred at or after `WHEN`: RFC 3339, or an age like 24h or 7d")
	fs.StringVar(&ef.until, "until", "", "occurred before `WHEN`: RFC 3339, or an age like 1h")
	fs.StringVar(&q.Sort, "sort", "", "sort by occurred_at (default), action, actor (id), actor_name, target_type or target_id (the first target's)")
	fs.StringVar(&q.Order, "order", "", "asc or desc (default: newest first, or a to z)")
}

// parse parses args and returns the positional arguments and a client.
func (ef *eventsFlags) parse(env *Env, args []string) ([]string, *client.Client, error) {
	pos, err := parseFlags(ef.fs, args)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	if ef.q.Since, err = parseWhen(ef.since, now, -1); err != nil {
		return nil, nil, usageErrorf("--since: %v", err)
	}
	if ef.q.Until, err = parseWhen(ef.until, now, -1); err != nil {
		return nil, nil, usageErrorf("--until: %v", err)
	}
	server := firstSet(*ef.server, env.Getenv("TRAIL_SERVER"), DefaultServer)
	key := firstSet(*ef.key, env.Getenv("TRAIL_KEY"))
	if key == "" {
		return nil, nil, usageErrorf("no API key: pass --key or set TRAIL_KEY (create one with trail keys create)")
	}
	ef.url = server
	return pos, client.New(server, key, client.WithUserAgent("trail-cli/"+trail.Version)), nil
}

// explain adds a hint to errors that mean no server answers.
func (ef *eventsFlags) explain(err error) error {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("%w\nis trail serve running at %s? (set --server or TRAIL_SERVER)", err, ef.url)
	}
	return err
}

func firstSet(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

func eventsList(ctx context.Context, env *Env, args []string) error {
	ef := newEventsFlags(env, "list", true)
	ef.fs.IntVar(&ef.q.Limit, "limit", 0, "page size, 1 to 1000 (default 100)")
	ef.fs.StringVar(&ef.q.Cursor, "cursor", "", "continue after this page `cursor`")
	all := ef.fs.Bool("all", false, "follow the cursor to the last page")
	output := ef.fs.String("output", "table", "output `format`: table, json or jsonl")
	pos, c, err := ef.parse(env, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf("events list: unexpected argument %q", pos[0])
	}
	if *output != "table" && *output != "json" && *output != "jsonl" {
		return usageErrorf("--output: %q is not table, json or jsonl", *output)
	}
	if err := checkLimit(ef.fs, ef.q.Limit); err != nil {
		return err
	}
	if !*all {
		page, err := c.List(ctx, ef.q)
		if err != nil {
			return ef.explain(err)
		}
		return printPage(env, *output, page)
	}
	out := newEventPrinter(env.Stdout, *output)
	for e, err := range c.All(ctx, ef.q) {
		if err != nil {
			return ef.explain(err)
		}
		out.print(e)
	}
	return out.close("")
}

// checkLimit refuses a --limit below 1: the API reads 0 as "the default",
// so --limit 0 silently meant 100. The server refuses sizes past its most.
func checkLimit(fs *flag.FlagSet, limit int) error {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "limit" })
	if set && limit < 1 {
		return usageErrorf("--limit: %d is not a page size from 1 to 1000", limit)
	}
	return nil
}

func printPage(env *Env, output string, page *client.Page) error {
	if output == "json" {
		if page.Events == nil {
			page.Events = []*trail.Event{}
		}
		return writeJSON(env.Stdout, page)
	}
	out := newEventPrinter(env.Stdout, output)
	for _, e := range page.Events {
		out.print(e)
	}
	if page.NextCursor != "" {
		fmt.Fprintf(env.Stderr, "more events: add --cursor %s (or --all)\n", page.NextCursor)
	}
	return out.close(page.NextCursor)
}

// eventPrinter prints events as a table or as JSON lines. For --all with
// json it prints one {"events": [...]} document.
type eventPrinter struct {
	w      io.Writer
	format string
	tw     *tabwriter.Writer
	all    []*trail.Event
}

func newEventPrinter(w io.Writer, format string) *eventPrinter {
	p := &eventPrinter{w: w, format: format}
	if format == "table" {
		p.tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(p.tw, "OCCURRED_AT\tACTION\tACTOR\tTARGETS\tTENANT\tID")
	}
	return p
}

func (p *eventPrinter) print(e *trail.Event) {
	switch p.format {
	case "table":
		fmt.Fprintf(p.tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.OccurredAt.Format(time.RFC3339), e.Action,
			actorLabel(e.Actor), targetsLabel(e.Targets), dash(e.Tenant), e.ID)
	case "jsonl":
		json.NewEncoder(p.w).Encode(e)
	default:
		p.all = append(p.all, e)
	}
}

func (p *eventPrinter) close(next string) error {
	switch p.format {
	case "table":
		return p.tw.Flush()
	case "json":
		if p.all == nil {
			p.all = []*trail.Event{}
		}
		return writeJSON(p.w, client.Page{Events: p.all, NextCursor: next})
	}
	return nil
}

func actorLabel(a trail.Actor) string {
	s := a.Type
	if a.ID != "" {
		s += ":" + a.ID
	}
	if a.Name != "" {
		s += " (" + a.Name + ")"
	}
	return s
}

func targetsLabel(ts []trail.Target) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = t.Type + ":" + t.ID
	}
	return dash(strings.Join(parts, ","))
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func eventsGet(ctx context.Context, env *Env, args []string) error {
	ef := newEventsFlags(env, "get", false)
	pos, c, err := ef.parse(env, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("events get needs exactly one event id")
	}
	e, err := c.Get(ctx, pos[0])
	if err != nil {
		return ef.explain(err)
	}
	return writeJSON(env.Stdout, e)
}

func eventsExport(ctx context.Context, env *Env, args []string) error {
	ef := newEventsFlags(env, "export", true)
	format := ef.fs.String("format", "jsonl", "export `format`: csv, jsonl, or bundle (events with ledger proofs, for trail verify --bundle)")
	output := ef.fs.String("output", "-", "write to this `file` (- for standard output)")
	pos, c, err := ef.parse(env, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf("events export: unexpected argument %q", pos[0])
	}
	if *format != client.FormatCSV && *format != client.FormatJSONL && *format != "bundle" {
		return usageErrorf("--format: %q is not csv, jsonl or bundle", *format)
	}
	return exportTo(*output, env, func(w io.Writer) error {
		counter := newRecordCounter(w, *format == client.FormatCSV)
		var stop func() error
		if env.StderrIsTerminal {
			stop = showProgress(env.Stderr, counter, time.Now)
		}
		err := c.Export(ctx, *format, ef.q, counter)
		if stop != nil {
			stop()
		}
		return ef.explain(err)
	})
}

// exportTo runs export into the file path, or standard output for "-". A
// file is written under a temporary name and renamed when complete, so a
// failed export never leaves a file that looks whole.
func exportTo(path string, env *Env, export func(io.Writer) error) error {
	if path == "-" {
		return export(env.Stdout)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".partial-*")
	if err != nil {
		return fmt.Errorf("--output: %w", err)
	}
	defer os.Remove(f.Name()) // no-op after the rename
	if err := export(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("--output: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("--output: %w", err)
	}
	// The file keeps CreateTemp's 0600: an export is audit data, readable
	// by its owner only, whatever the umask would allow.
	return os.Rename(f.Name(), path)
}

// parseWhen parses an RFC 3339 time, or a duration (24h, 90m, 7d) counted
// from now: backwards for sign -1 (ages, for --since) and forwards for +1
// (lifetimes, for --expires). Empty means the zero time.
func parseWhen(s string, now time.Time, sign int) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(s)
	if days, ok := strings.CutSuffix(s, "d"); ok && err != nil {
		var n int
		n, err = strconv.Atoi(days)
		d = time.Duration(n) * 24 * time.Hour
	}
	if err != nil || d <= 0 {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time like 2026-11-23T12:00:00Z nor a duration like 24h or 7d", s)
	}
	return now.Add(time.Duration(sign) * d), nil
}
