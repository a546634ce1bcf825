// Package cli implements cat-server's command line: the default "serve"
// behaviour, the "healthcheck" subcommand and the usage text. It is kept
// out of package main so it can be tested.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"

	"github.com/cat-server/cat-server/server/app"
	"github.com/cat-server/cat-server/server/config"
	"github.com/cat-server/cat-server/server/healthcheck"
	"github.com/cat-server/cat-server/server/logging"
)

// Exit codes.
const (
	ExitOK    = 0 // clean shutdown, healthy, or help shown
	ExitError = 1 // invalid setting, start-up failure, unhealthy, grace period exceeded
	ExitUsage = 2 // malformed command line (unknown flag, stray argument)
)

// Usage is the text printed for -h. TestUsage checks it against the
// names and defaults in package config.
const Usage = `cat-server serves one directory read-only over HTTP.

Usage:
  cat-server [flags]       serve files (default)
  cat-server healthcheck   GET http://127.0.0.1:$PORT/healthz (2s timeout);
                           exit 0 if it answers 200, else print why and exit 1
  cat-server -h            show this help

Flags (an explicitly set flag overrides its environment variable):
  -root DIR                 directory to serve           env CAT_SERVER_ROOT            default /srv
  -mode MODE                release or debug             env CAT_SERVER_MODE            default release
  -shutdown-grace DURATION  graceful shutdown limit      env CAT_SERVER_SHUTDOWN_GRACE  default 10s
  -max-header-bytes N       request line + headers       env CAT_SERVER_MAX_HEADER_BYTES     default 16384
  -max-conns N              open connections             env CAT_SERVER_MAX_CONNS            default 256
  -send-timeout DURATION    a write may stall this long  env CAT_SERVER_SEND_TIMEOUT         default 1m0s
  -max-listing-entries N    entries per listing          env CAT_SERVER_MAX_LISTING_ENTRIES  default 5000
  -max-listings N           listings built at once       env CAT_SERVER_MAX_LISTINGS         default 4
  -sandbox BOOL             CSP sandbox on files         env CAT_SERVER_SANDBOX              default true

Environment only:
  PORT                      TCP port on all interfaces, 1-65535                         default 8080

Endpoints: GET/HEAD /healthz, GET/HEAD /<path> under the root.
A second SIGTERM/SIGINT during shutdown closes the remaining connections at once.
Exit status: 0 clean shutdown, 1 error or grace period exceeded or cut short, 2 bad command line.
`

// Main runs cat-server with args (without the program name) and returns
// the process exit code. ctx is cancelled to request a graceful shutdown.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "healthcheck" {
		return healthCheck(ctx, args[1:], getenv, stdout, stderr)
	}
	cfg, err := config.Parse(args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, Usage)
		return ExitOK
	}
	if ue := (*config.UsageError)(nil); errors.As(err, &ue) {
		fmt.Fprintf(stderr, "cat-server: %v\n\n%s", err, Usage)
		return ExitUsage
	}
	if err != nil {
		fmt.Fprintf(stderr, "cat-server: %v\n", err)
		return ExitError
	}

	tuneGC(getenv)
	logger := logging.New(stderr, cfg.Mode == config.ModeDebug)
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(cfg.Port))
	if err != nil {
		logger.Error("cat-server failed to start", "error", fmt.Errorf("listen on port %d (%s): %w", cfg.Port, config.EnvPort, err))
		return ExitError
	}
	if err := app.Run(ctx, cfg, ln, logger); err != nil {
		logger.Error("cat-server failed", "error", err)
		return ExitError
	}
	return ExitOK
}

func healthCheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		if args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
			fmt.Fprint(stdout, Usage)
			return ExitOK
		}
		fmt.Fprintf(stderr, "cat-server healthcheck: unexpected argument %q\n", args[0])
		return ExitUsage
	}
	port, err := config.PortFromEnv(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "cat-server healthcheck: %v\n", err)
		return ExitError
	}
	if err := healthcheck.Check(ctx, healthcheck.URL(port)); err != nil {
		fmt.Fprintf(stderr, "cat-server healthcheck: %v\n", err)
		return ExitError
	}
	return ExitOK
}
