package config

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	dir := t.TempDir()
	other := t.TempDir()
	file := filepath.Join(dir, "file.txt")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")

	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    Config
		wantErr string // exact message; "" means success
	}{
		{
			name: "defaults except root",
			env:  map[string]string{EnvRoot: dir},
			want: base(dir, 8080, ModeRelease, 10*time.Second, nil),
		},
		{
			name: "all from env",
			env:  map[string]string{EnvRoot: dir, EnvPort: "9090", EnvMode: "debug", EnvGrace: "1m30s"},
			want: base(dir, 9090, ModeDebug, 90*time.Second, nil),
		},
		{
			name: "all from flags",
			args: []string{"-root", dir, "-mode=debug", "--shutdown-grace", "250ms"},
			want: base(dir, 8080, ModeDebug, 250*time.Millisecond, nil),
		},
		{
			name: "flags win over env",
			args: []string{"-root", dir, "-mode", "release", "-shutdown-grace", "3s"},
			env:  map[string]string{EnvRoot: other, EnvMode: "debug", EnvGrace: "bogus"},
			want: base(dir, 8080, ModeRelease, 3*time.Second, nil),
		},
		{
			name: "port bounds",
			env:  map[string]string{EnvRoot: dir, EnvPort: "65535"},
			want: base(dir, 65535, ModeRelease, 10*time.Second, nil),
		},
		{
			name: "port 1",
			env:  map[string]string{EnvRoot: dir, EnvPort: "1"},
			want: base(dir, 1, ModeRelease, 10*time.Second, nil),
		},
		{
			name:    "port 0",
			env:     map[string]string{EnvRoot: dir, EnvPort: "0"},
			wantErr: `invalid PORT "0": must be an integer between 1 and 65535`,
		},
		{
			name:    "port 65536",
			env:     map[string]string{EnvRoot: dir, EnvPort: "65536"},
			wantErr: `invalid PORT "65536": must be an integer between 1 and 65535`,
		},
		{
			name:    "port abc",
			env:     map[string]string{EnvRoot: dir, EnvPort: "abc"},
			wantErr: `invalid PORT "abc": must be an integer between 1 and 65535`,
		},
		{
			name:    "port negative",
			env:     map[string]string{EnvRoot: dir, EnvPort: "-1"},
			wantErr: `invalid PORT "-1": must be an integer between 1 and 65535`,
		},
		{
			name:    "port with space",
			env:     map[string]string{EnvRoot: dir, EnvPort: " 80"},
			wantErr: `invalid PORT " 80": must be an integer between 1 and 65535`,
		},
		{
			name:    "mode bogus env",
			env:     map[string]string{EnvRoot: dir, EnvMode: "bogus"},
			wantErr: `invalid CAT_SERVER_MODE "bogus": must be "release" or "debug"`,
		},
		{
			name:    "mode bogus flag",
			args:    []string{"-mode", "Debug"},
			env:     map[string]string{EnvRoot: dir},
			wantErr: `invalid -mode flag "Debug": must be "release" or "debug"`,
		},
		{
			name:    "missing root env",
			env:     map[string]string{EnvRoot: missing},
			wantErr: `invalid CAT_SERVER_ROOT "` + missing + `": stat ` + missing + `: no such file or directory`,
		},
		{
			name:    "missing root flag",
			args:    []string{"-root", missing},
			wantErr: `invalid -root flag "` + missing + `": stat ` + missing + `: no such file or directory`,
		},
		{
			name:    "root is a file",
			env:     map[string]string{EnvRoot: file},
			wantErr: `invalid CAT_SERVER_ROOT "` + file + `": not a directory`,
		},
		{
			name:    "empty root flag",
			args:    []string{"-root="},
			env:     map[string]string{EnvRoot: dir},
			wantErr: `invalid -root flag "": must not be empty`,
		},
		{
			name:    "bad grace",
			env:     map[string]string{EnvRoot: dir, EnvGrace: "10"},
			wantErr: `invalid CAT_SERVER_SHUTDOWN_GRACE "10": must be a positive Go duration such as 10s or 1m30s`,
		},
		{
			name:    "zero grace",
			env:     map[string]string{EnvRoot: dir, EnvGrace: "0s"},
			wantErr: `invalid CAT_SERVER_SHUTDOWN_GRACE "0s": must be a positive Go duration such as 10s or 1m30s`,
		},
		{
			name:    "negative grace flag",
			args:    []string{"-shutdown-grace=-1s"},
			env:     map[string]string{EnvRoot: dir},
			wantErr: `invalid -shutdown-grace flag "-1s": must be a positive Go duration such as 10s or 1m30s`,
		},
		{
			name: "limits from env",
			env: map[string]string{EnvRoot: dir, EnvMaxHeaderBytes: "4096", EnvMaxConns: "10", EnvSendTimeout: "1s",
				EnvMaxListingEntries: "100", EnvMaxListings: "2", EnvSandbox: "false"},
			want: base(dir, 8080, ModeRelease, 10*time.Second, func(c *Config) {
				c.MaxHeaderBytes, c.MaxConns, c.SendTimeout, c.MaxListingEntries, c.MaxListings, c.Sandbox = 4096, 10, time.Second, 100, 2, false
			}),
		},
		{
			name: "limits from flags win over env",
			args: []string{"-max-header-bytes=1024", "-max-conns", "1", "-send-timeout", "2m", "-max-listing-entries=1",
				"-max-listings=1", "-sandbox=true"},
			env: map[string]string{EnvRoot: dir, EnvMaxConns: "x", EnvSandbox: "false"},
			want: base(dir, 8080, ModeRelease, 10*time.Second, func(c *Config) {
				c.MaxHeaderBytes, c.MaxConns, c.SendTimeout, c.MaxListingEntries, c.MaxListings = 1024, 1, 2*time.Minute, 1, 1
			}),
		},
		{
			name:    "header bytes too small",
			env:     map[string]string{EnvRoot: dir, EnvMaxHeaderBytes: "1023"},
			wantErr: `invalid CAT_SERVER_MAX_HEADER_BYTES "1023": must be an integer between 1024 and 1048576`,
		},
		{
			name:    "header bytes too large flag",
			args:    []string{"-max-header-bytes", "1048577"},
			env:     map[string]string{EnvRoot: dir},
			wantErr: `invalid -max-header-bytes flag "1048577": must be an integer between 1024 and 1048576`,
		},
		{
			name:    "zero conns",
			env:     map[string]string{EnvRoot: dir, EnvMaxConns: "0"},
			wantErr: `invalid CAT_SERVER_MAX_CONNS "0": must be an integer between 1 and 65536`,
		},
		{
			name:    "bad listing entries",
			env:     map[string]string{EnvRoot: dir, EnvMaxListingEntries: "many"},
			wantErr: `invalid CAT_SERVER_MAX_LISTING_ENTRIES "many": must be an integer between 1 and 1048576`,
		},
		{
			name:    "zero listings",
			args:    []string{"-max-listings=0"},
			env:     map[string]string{EnvRoot: dir},
			wantErr: `invalid -max-listings flag "0": must be an integer between 1 and 1024`,
		},
		{
			name:    "bad send timeout",
			env:     map[string]string{EnvRoot: dir, EnvSendTimeout: "0s"},
			wantErr: `invalid CAT_SERVER_SEND_TIMEOUT "0s": must be a positive Go duration such as 60s or 1m`,
		},
		{
			name:    "bad sandbox",
			env:     map[string]string{EnvRoot: dir, EnvSandbox: "maybe"},
			wantErr: `invalid CAT_SERVER_SANDBOX "maybe": must be true or false`,
		},
		{
			name:    "unknown flag",
			args:    []string{"-port", "80"},
			env:     map[string]string{EnvRoot: dir},
			wantErr: `flag provided but not defined: -port`,
		},
		{
			name:    "stray argument",
			args:    []string{"serve"},
			env:     map[string]string{EnvRoot: dir},
			wantErr: `unexpected argument "serve"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.args, mapEnv(tt.env))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("Parse error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseDefaultRoot(t *testing.T) {
	// The default root, /srv, may or may not exist on the test machine;
	// either way it is the path used.
	cfg, err := Parse(nil, mapEnv(nil))
	if err != nil {
		want := `invalid default root "/srv" (set -root or CAT_SERVER_ROOT): `
		if !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Parse error = %q, want prefix %q", err, want)
		}
		return
	}
	if cfg.Root != DefaultRoot {
		t.Errorf("Root = %q, want %q", cfg.Root, DefaultRoot)
	}
}

func TestParseHelpAndUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"-help"}, {"--help"}} {
		if _, err := Parse(args, mapEnv(nil)); !errors.Is(err, flag.ErrHelp) {
			t.Errorf("Parse(%q) = %v, want flag.ErrHelp", args, err)
		}
	}
	var ue *UsageError
	if _, err := Parse([]string{"-nope"}, mapEnv(nil)); !errors.As(err, &ue) {
		t.Errorf("Parse(-nope) = %v, want *UsageError", err)
	}
	if _, err := Parse([]string{"-root"}, mapEnv(nil)); !errors.As(err, &ue) {
		t.Errorf("Parse(-root) = %v, want *UsageError", err)
	}
}

func TestPortFromEnv(t *testing.T) {
	tests := []struct {
		env     string
		want    int
		wantErr bool
	}{
		{"", 8080, false},
		{"18080", 18080, false},
		{"0", 0, true},
		{"65536", 0, true},
		{"abc", 0, true},
		{"8080.0", 0, true},
	}
	for _, tt := range tests {
		got, err := PortFromEnv(mapEnv(map[string]string{EnvPort: tt.env}))
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("PortFromEnv(PORT=%q) = %d, %v; want %d, error %v", tt.env, got, err, tt.want, tt.wantErr)
		}
	}
}

// base is the Config Parse returns for these values and default limits,
// changed by edit if it is not nil.
func base(root string, port int, mode Mode, grace time.Duration, edit func(*Config)) Config {
	c := Defaults(root)
	c.Port, c.Mode, c.ShutdownGrace = port, mode, grace
	if edit != nil {
		edit(&c)
	}
	return c
}

func mapEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseRelativeRootMadeAbsolute(t *testing.T) {
	// "." always exists; the result must be absolute.
	cfg, err := Parse([]string{"-root", "."}, mapEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(cfg.Root) {
		t.Errorf("Root = %q, want an absolute path", cfg.Root)
	}
}
