// Command cat-server serves one directory read-only over HTTP, with a
// /healthz endpoint and a "healthcheck" subcommand for container health
// probes. Run "cat-server -h" for flags and environment variables.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/cat-server/cat-server/server/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	code := cli.Main(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
