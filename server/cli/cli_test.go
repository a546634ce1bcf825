package cli

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cat-server/cat-server/server/app"
	"github.com/cat-server/cat-server/server/config"
)

func TestMainExitCodes(t *testing.T) {
	healthy := serverPort(t, http.StatusOK)
	unhealthy := serverPort(t, http.StatusServiceUnavailable)
	closed := closedPort(t)
	dir := t.TempDir()

	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		wantCode   int
		wantStdout string // substring
		wantStderr string // substring
	}{
		{name: "help", args: []string{"-h"}, wantCode: 0, wantStdout: "cat-server healthcheck"},
		{name: "healthcheck help", args: []string{"healthcheck", "-h"}, wantCode: 0, wantStdout: "Usage:"},
		{name: "unknown flag", args: []string{"-bogus"}, wantCode: 2, wantStderr: "flag provided but not defined: -bogus"},
		{name: "bad port", args: []string{"-root", dir}, env: map[string]string{"PORT": "abc"}, wantCode: 1,
			wantStderr: `cat-server: invalid PORT "abc": must be an integer between 1 and 65535`},
		{name: "bad mode", env: map[string]string{"CAT_SERVER_ROOT": dir, "CAT_SERVER_MODE": "bogus"}, wantCode: 1,
			wantStderr: `invalid CAT_SERVER_MODE "bogus"`},
		{name: "missing root", args: []string{"-root", filepath.Join(dir, "nope")}, wantCode: 1,
			wantStderr: `invalid -root flag`},
		{name: "healthcheck healthy", args: []string{"healthcheck"}, env: map[string]string{"PORT": healthy}, wantCode: 0},
		{name: "healthcheck 503", args: []string{"healthcheck"}, env: map[string]string{"PORT": unhealthy}, wantCode: 1,
			wantStderr: "cat-server healthcheck: GET http://127.0.0.1:" + unhealthy + "/healthz: unhealthy status 503 Service Unavailable"},
		{name: "healthcheck closed port", args: []string{"healthcheck"}, env: map[string]string{"PORT": closed}, wantCode: 1,
			wantStderr: "connection refused"},
		{name: "healthcheck bad port", args: []string{"healthcheck"}, env: map[string]string{"PORT": "0"}, wantCode: 1,
			wantStderr: `invalid PORT "0"`},
		{name: "healthcheck stray arg", args: []string{"healthcheck", "now"}, wantCode: 2,
			wantStderr: `unexpected argument "now"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Main(context.Background(), tt.args, func(k string) string { return tt.env[k] }, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.wantCode, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) {
				t.Errorf("stdout = %q, want it to contain %q", stdout.String(), tt.wantStdout)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tt.wantStderr)
			}
			if tt.wantStderr == "" && stderr.Len() > 0 {
				t.Errorf("unexpected stderr %q", stderr.String())
			}
		})
	}
}

func TestUsage(t *testing.T) {
	for _, want := range []string{
		config.EnvPort, config.EnvRoot, config.EnvMode, config.EnvGrace,
		"-" + config.FlagRoot, "-" + config.FlagMode, "-" + config.FlagGrace,
		"default " + config.DefaultRoot, "default " + string(config.DefaultMode),
		"default " + config.DefaultGrace.String(), "default " + strconv.Itoa(config.DefaultPort),
		"healthcheck",
		config.EnvMaxHeaderBytes, config.EnvMaxConns, config.EnvSendTimeout, config.EnvMaxListingEntries,
		config.EnvMaxListings, config.EnvSandbox,
		"-" + config.FlagMaxHeaderBytes, "-" + config.FlagMaxConns, "-" + config.FlagSendTimeout,
		"-" + config.FlagMaxListingEntries, "-" + config.FlagMaxListings, "-" + config.FlagSandbox,
		"default " + strconv.Itoa(config.DefaultMaxHeaderBytes), "default " + strconv.Itoa(config.DefaultMaxConns),
		"default " + config.DefaultSendTimeout.String(), "default " + strconv.Itoa(config.DefaultMaxListingEntries),
		"default " + strconv.Itoa(config.DefaultMaxListings), "default " + strconv.FormatBool(config.DefaultSandbox),
	} {
		if !strings.Contains(Usage, want) {
			t.Errorf("Usage lacks %q", want)
		}
	}
}

// serverPort starts a 127.0.0.1 server answering /healthz with status and
// returns its port.
func serverPort(t *testing.T, status int) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Port()
}

func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

func TestShutdownContext(t *testing.T) {
	sigs := make(chan os.Signal, 2)
	ctx, cancel := ShutdownContext(context.Background(), sigs)
	defer cancel()
	force, ok := app.Force(ctx)
	if !ok {
		t.Fatal("ShutdownContext carries no force context")
	}
	if ctx.Err() != nil || force.Err() != nil {
		t.Fatal("done before any signal")
	}
	sigs <- syscall.SIGTERM
	waitDone(t, ctx, "first signal")
	if got, want := context.Cause(ctx).Error(), "received terminated"; got != want {
		t.Errorf("cause = %q, want %q", got, want)
	}
	if force.Err() != nil {
		t.Fatal("first signal forced the shutdown")
	}
	sigs <- os.Interrupt
	waitDone(t, force, "second signal")
}

func waitDone(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatalf("context not done after %s", what)
	}
}
