package main_test

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	main "github.com/trailhq/trail/cmd/trail"
)

// env returns a getenv over m.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// writeFile writes content to a new file in a temporary folder.
func writeFile(tb testing.TB, name, content string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

func TestLoadConfig(t *testing.T) {
	file := writeFile(t, "trail.yaml", "addr: 127.0.0.1:7000\ndata: /from/file\nlog_level: warn\nshutdown_timeout: 5s\n")
	other := writeFile(t, "other.yaml", "data: /from/other\n")
	nets := writeFile(t, "nets.yaml", "forward_allow_networks: [10.0.0.0/8, 192.168.7.9]\n")
	for _, tt := range []struct {
		name string
		args []string
		env  map[string]string
		want func(c *main.Config)
	}{
		{name: "Defaults"},
		{name: "File", args: []string{"--config", file}, want: func(c *main.Config) {
			c.File = file
			c.Addr, c.Data, c.LogLevel, c.ShutdownTimeout = "127.0.0.1:7000", "/from/file", "warn", 5*time.Second
		}},
		{name: "FileFromEnv", env: map[string]string{"TRAIL_CONFIG": file}, want: func(c *main.Config) {
			c.File = file
			c.Addr, c.Data, c.LogLevel, c.ShutdownTimeout = "127.0.0.1:7000", "/from/file", "warn", 5*time.Second
		}},
		{name: "ConfigFlagBeatsEnv", args: []string{"--config", other}, env: map[string]string{"TRAIL_CONFIG": file},
			want: func(c *main.Config) { c.Data, c.File = "/from/other", other }},
		{name: "EnvBeatsFile", args: []string{"--config", file},
			env: map[string]string{"TRAIL_DATA": "/from/env", "TRAIL_LOG_FORMAT": "json", "TRAIL_TRUST_PROXY_HEADERS": "true"},
			want: func(c *main.Config) {
				c.Addr, c.Data, c.LogLevel, c.ShutdownTimeout = "127.0.0.1:7000", "/from/env", "warn", 5*time.Second
				c.LogFormat, c.TrustProxyHeaders, c.File = "json", true, file
			}},
		{name: "FlagsBeatEnvAndFile", args: []string{"--config", file, "--data", "/from/flag", "--addr=:9000", "--log-level", "debug"},
			env: map[string]string{"TRAIL_DATA": "/from/env", "TRAIL_ADDR": "127.0.0.1:1"},
			want: func(c *main.Config) {
				c.Addr, c.Data, c.LogLevel, c.ShutdownTimeout = ":9000", "/from/flag", "debug", 5*time.Second
				c.File = file
			}},
		{name: "FlagEqualToDefaultStillWins", args: []string{"--data", "./trail-data"},
			env: map[string]string{"TRAIL_DATA": "/from/env"}},
		{name: "EmptyEnvIgnored", env: map[string]string{"TRAIL_ADDR": ""}},
		{name: "SessionTimeouts", args: []string{"--session-idle-timeout", "30m"},
			env:  map[string]string{"TRAIL_SESSION_MAX_AGE": "8h"},
			want: func(c *main.Config) { c.SessionIdleTimeout, c.SessionMaxAge = 30*time.Minute, 8*time.Hour }},
		{name: "AllowNetworksYAMLList", args: []string{"--config", nets},
			want: func(c *main.Config) { c.ForwardAllowNetworks, c.File = "10.0.0.0/8,192.168.7.9", nets }},
		{name: "AuditReadsEnv", env: map[string]string{"TRAIL_AUDIT_READS": "all"},
			want: func(c *main.Config) { c.AuditReads = "all" }},
		{name: "AllowNetworksFlag", args: []string{"--forward-allow-networks", "10.1.0.0/16"},
			env:  map[string]string{"TRAIL_FORWARD_ALLOW_NETWORKS": "10.2.0.0/16"},
			want: func(c *main.Config) { c.ForwardAllowNetworks = "10.1.0.0/16" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := main.LoadConfig(tt.args, env(tt.env), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			want := main.DefaultConfig()
			if tt.want != nil {
				tt.want(&want)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestLoadConfigErrors(t *testing.T) {
	typo := writeFile(t, "typo.yaml", "adr: :8080\n")
	badType := writeFile(t, "bad.yaml", "shutdown_timeout: soon\n")
	for _, tt := range []struct {
		name string
		args []string
		env  map[string]string
		want []string // substrings of the error
	}{
		{"ErrUnknownYAMLKey", []string{"--config", typo}, nil, []string{"typo.yaml", "adr"}},
		{"ErrYAMLType", []string{"--config", badType}, nil, []string{"bad.yaml", "soon"}},
		{"ErrMissingFile", []string{"--config", "/does/not/exist.yaml"}, nil, []string{"exist.yaml"}},
		{"ErrEnvDuration", nil, map[string]string{"TRAIL_SHUTDOWN_TIMEOUT": "forever"},
			[]string{"TRAIL_SHUTDOWN_TIMEOUT", "duration"}},
		{"ErrEnvBool", nil, map[string]string{"TRAIL_TRUST_PROXY_HEADERS": "maybe"},
			[]string{"TRAIL_TRUST_PROXY_HEADERS", "true or false"}},
		{"ErrAuditReads", []string{"--audit-reads", "some"}, nil, []string{"--audit-reads", "off, console or all"}},
		{"ErrAddr", []string{"--addr", "8080"}, nil, []string{"--addr", "HOST:PORT"}},
		{"ErrPort", []string{"--addr", "localhost:http2"}, nil, []string{"--addr", "port"}},
		{"ErrEveryProblem", []string{"--log-level", "loud", "--log-format", "xml", "--data", " "}, nil,
			[]string{"--log-level", "loud", "--log-format", "xml", "--data"}},
		{"ErrCommitMaxEvents", []string{"--commit-max-events", "0"}, nil, []string{"--commit-max-events"}},
		{"ErrForwardAllowNetworks", nil, map[string]string{"TRAIL_FORWARD_ALLOW_NETWORKS": "10.0.0.0/8,10.0.0.0/99"},
			[]string{"--forward-allow-networks", "10.0.0.0/99"}},
		{"ErrSessionIdleTimeout", []string{"--session-idle-timeout", "10s"}, nil, []string{"--session-idle-timeout", "at least 1m"}},
		{"ErrSessionMaxAgeBelowIdle", []string{"--session-idle-timeout", "2h", "--session-max-age", "1h"}, nil,
			[]string{"--session-max-age", "--session-idle-timeout"}},
		{"ErrArgument", []string{"8080"}, nil, []string{`unexpected argument "8080"`}},
		{"ErrUnknownFlag", []string{"--port", "1"}, nil, []string{"port"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := main.LoadConfig(tt.args, env(tt.env), io.Discard)
			if err == nil {
				t.Fatal("got nil error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestMainParseFlags(t *testing.T) {
	m := main.NewMain()
	m.Getenv = env(map[string]string{"TRAIL_LOG_LEVEL": "error"})
	if err := m.ParseFlags([]string{"--addr", "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	if got, want := m.Config.Addr, "127.0.0.1:0"; got != want {
		t.Errorf("addr: got %q, want %q", got, want)
	}
	if got, want := m.Config.LogLevel, "error"; got != want {
		t.Errorf("log level: got %q, want %q", got, want)
	}
}

// TestSettings checks that every flag has a Config field with the matching
// YAML key, and that the README documents every setting.
func TestSettings(t *testing.T) {
	fields := map[string]bool{}
	typ := reflect.TypeOf(main.Config{})
	for i := range typ.NumField() {
		fields[strings.Split(typ.Field(i).Tag.Get("yaml"), ",")[0]] = true
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range main.Settings() {
		if !fields[s.YAML] {
			t.Errorf("--%s: no Config field with yaml key %q", s.Flag, s.YAML)
		}
		for _, name := range []string{"--" + s.Flag, s.Env, "`" + s.YAML + "`"} {
			if !strings.Contains(string(readme), name) {
				t.Errorf("README.md does not document %s", name)
			}
		}
	}
}
