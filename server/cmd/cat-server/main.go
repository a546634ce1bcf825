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
	// The first SIGTERM or SIGINT starts a graceful shutdown, a second one
	// cuts its grace period short.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, os.Interrupt)
	ctx, cancel := cli.ShutdownContext(context.Background(), sigs)
	code := cli.Main(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	signal.Stop(sigs)
	cancel()
	os.Exit(code)
}
